-- Unique constraint from the index
--
-- Revision ID: c23
-- Revises: c22
-- Create Date: 2026-02-01

-- migrate:upgrade
ALTER TABLE orgs ADD CONSTRAINT orgs_name_key UNIQUE USING INDEX orgs_name_idx;

-- migrate:downgrade
ALTER TABLE orgs DROP CONSTRAINT orgs_name_key;
