-- Slug check, not valid yet
--
-- Revision ID: c15
-- Revises: c14
-- Create Date: 2026-02-01

-- migrate:upgrade
ALTER TABLE orgs ADD CONSTRAINT orgs_slug_nn CHECK (slug IS NOT NULL) NOT VALID;

-- migrate:downgrade
ALTER TABLE orgs DROP CONSTRAINT orgs_slug_nn;
