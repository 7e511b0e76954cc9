-- A long backfill with a session-level timeout
--
-- Revision ID: c32
-- Revises: c31
-- Create Date: 2026-02-01

-- migrate:upgrade
SET statement_timeout = '5min';
UPDATE projects SET title = trim(title) WHERE title <> trim(title);

-- migrate:downgrade
SELECT 1;
