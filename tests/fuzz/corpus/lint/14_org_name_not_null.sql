-- Org names required, the blocking way
--
-- Revision ID: c14
-- Revises:
-- Create Date: 2026-02-01

-- migrate:upgrade
ALTER TABLE orgs ALTER COLUMN name SET NOT NULL;

-- migrate:downgrade
ALTER TABLE orgs ALTER COLUMN name DROP NOT NULL;
