-- Index built concurrently
--
-- Revision ID: c05
-- Revises:
-- Create Date: 2026-02-01

-- migrate:upgrade transaction=false
CREATE INDEX CONCURRENTLY memberships_org ON memberships (org_id);

-- migrate:downgrade transaction=false
DROP INDEX CONCURRENTLY memberships_org;
