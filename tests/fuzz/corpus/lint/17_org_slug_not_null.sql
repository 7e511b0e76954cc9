-- Slug NOT NULL after a validated check
--
-- Revision ID: c17
-- Revises:
-- Create Date: 2026-02-01

-- migrate:upgrade
ALTER TABLE orgs ALTER COLUMN slug SET NOT NULL;

-- migrate:downgrade
ALTER TABLE orgs ALTER COLUMN slug DROP NOT NULL;
