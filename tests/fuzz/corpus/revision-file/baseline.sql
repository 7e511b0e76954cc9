-- Baseline: create all tables.
--
-- Revision ID: 001
-- Revises:
-- Create Date: 2026-01-31

-- migrate:upgrade
CREATE TABLE projects (
    id varchar(36) PRIMARY KEY,
    name varchar(255) NOT NULL UNIQUE
);

-- migrate:downgrade
DROP TABLE projects;
