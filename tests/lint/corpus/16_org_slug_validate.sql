-- Validate the slug check
--
-- Revision ID: c16
-- Revises: c15
-- Create Date: 2026-02-01

-- migrate:upgrade
ALTER TABLE orgs VALIDATE CONSTRAINT orgs_slug_nn;

-- migrate:downgrade
SELECT 1;
