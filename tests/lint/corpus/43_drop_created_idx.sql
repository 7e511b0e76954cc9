-- Drop the blocking index
--
-- Revision ID: c43
-- Revises: c42
-- Create Date: 2026-02-01

-- migrate:upgrade
DROP INDEX users_created_at;

-- migrate:downgrade transaction=false
CREATE INDEX CONCURRENTLY users_created_at ON users (created_at);
