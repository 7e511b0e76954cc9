-- Drop users.legacy_flag
--
-- Revision ID: c24
-- Revises: c23
-- Create Date: 2026-02-01

-- migrate:upgrade
ALTER TABLE users DROP COLUMN legacy_flag;

-- migrate:downgrade
ALTER TABLE users ADD COLUMN legacy_flag boolean;
