-- Drop users.api_key (waived)
--
-- Revision ID: c25
-- Revises:
-- Create Date: 2026-02-01

-- migrate:upgrade
-- migrate:lint ignore=ban-drop-column -- api keys moved to their own table in release 12
ALTER TABLE users DROP COLUMN api_key;

-- migrate:downgrade
ALTER TABLE users ADD COLUMN api_key uuid;
