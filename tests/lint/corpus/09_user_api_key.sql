-- API key with a volatile default
--
-- Revision ID: c09
-- Revises: c08
-- Create Date: 2026-02-01

-- migrate:upgrade
ALTER TABLE users ADD COLUMN api_key uuid DEFAULT gen_random_uuid();

-- migrate:downgrade
ALTER TABLE users DROP COLUMN api_key;
