-- Projects belong to orgs
--
-- Revision ID: c19
-- Revises: c18
-- Create Date: 2026-02-01

-- migrate:upgrade
ALTER TABLE projects ADD COLUMN org_id bigint REFERENCES orgs (id);

-- migrate:downgrade
ALTER TABLE projects DROP COLUMN org_id;
