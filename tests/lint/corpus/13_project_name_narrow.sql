-- Project names cut to 20 characters
--
-- Revision ID: c13
-- Revises: c12
-- Create Date: 2026-02-01

-- migrate:upgrade
ALTER TABLE projects ALTER COLUMN name TYPE varchar(20) USING left(name, 20);

-- migrate:downgrade
ALTER TABLE projects ALTER COLUMN name TYPE varchar(200);
