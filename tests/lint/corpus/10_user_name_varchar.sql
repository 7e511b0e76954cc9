-- Name becomes varchar(100)
--
-- Revision ID: c10
-- Revises: c09
-- Create Date: 2026-02-01

-- migrate:upgrade
ALTER TABLE users ALTER COLUMN name TYPE varchar(100);

-- migrate:downgrade
ALTER TABLE users ALTER COLUMN name TYPE text;
