-- Tier with a constant default
--
-- Revision ID: c08
-- Revises: c07
-- Create Date: 2026-02-01

-- migrate:upgrade
ALTER TABLE users ADD COLUMN tier text NOT NULL DEFAULT 'free';

-- migrate:downgrade
ALTER TABLE users DROP COLUMN tier;
