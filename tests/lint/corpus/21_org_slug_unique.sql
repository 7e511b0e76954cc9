-- Unique slugs, the blocking way
--
-- Revision ID: c21
-- Revises: c20
-- Create Date: 2026-02-01

-- migrate:upgrade
ALTER TABLE orgs ADD CONSTRAINT orgs_slug_key UNIQUE (slug);

-- migrate:downgrade
ALTER TABLE orgs DROP CONSTRAINT orgs_slug_key;
