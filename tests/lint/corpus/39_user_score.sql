-- Score with a constant default
--
-- Revision ID: c39
-- Revises: c38
-- Create Date: 2026-02-01

-- migrate:upgrade
ALTER TABLE users ADD COLUMN score integer DEFAULT 0;

-- migrate:downgrade
ALTER TABLE users DROP COLUMN score;
