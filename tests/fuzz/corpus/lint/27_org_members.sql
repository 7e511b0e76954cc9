-- Rename memberships
--
-- Revision ID: c27
-- Revises:
-- Create Date: 2026-02-01

-- migrate:upgrade
ALTER TABLE memberships RENAME TO org_members;

-- migrate:downgrade
ALTER TABLE org_members RENAME TO memberships;
