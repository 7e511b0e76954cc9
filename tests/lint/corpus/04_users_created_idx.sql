-- Index on users.created_at, built the blocking way
--
-- Revision ID: c04
-- Revises: c03
-- Create Date: 2026-02-01

-- migrate:upgrade
CREATE INDEX users_created_at ON users (created_at);

-- migrate:downgrade
DROP INDEX users_created_at;
