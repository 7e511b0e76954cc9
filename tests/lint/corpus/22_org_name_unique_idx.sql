-- Unique index on org names, concurrently
--
-- Revision ID: c22
-- Revises: c21
-- Create Date: 2026-02-01

-- migrate:upgrade transaction=false
CREATE UNIQUE INDEX CONCURRENTLY orgs_name_idx ON orgs (name);

-- migrate:downgrade transaction=false
DROP INDEX CONCURRENTLY orgs_name_idx;
