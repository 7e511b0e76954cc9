-- Project names up to 200 characters
--
-- Revision ID: c12
-- Revises:
-- Create Date: 2026-02-01

-- migrate:upgrade
ALTER TABLE projects ALTER COLUMN name TYPE varchar(200);

-- migrate:downgrade
ALTER TABLE projects ALTER COLUMN name TYPE varchar(100);
