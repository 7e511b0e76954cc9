-- Users get a name
--
-- Revision ID: c03
-- Revises: c02
-- Create Date: 2026-02-01

-- migrate:upgrade
ALTER TABLE users ADD COLUMN name text;

-- migrate:downgrade
ALTER TABLE users DROP COLUMN name;
