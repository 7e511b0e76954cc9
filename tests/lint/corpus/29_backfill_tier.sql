-- Backfill every user's tier
--
-- Revision ID: c29
-- Revises: c28
-- Create Date: 2026-02-01

-- migrate:upgrade
UPDATE users SET tier = 'free';

-- migrate:downgrade
SELECT 1;
