-- Projects
--
-- Revision ID: c11
-- Revises: c10
-- Create Date: 2026-02-01

-- migrate:upgrade
CREATE TABLE projects (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name varchar(50) NOT NULL);
ALTER TABLE projects ALTER COLUMN name TYPE varchar(100);

-- migrate:downgrade
DROP TABLE projects;
