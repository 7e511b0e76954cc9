-- Truncate sessions
--
-- Revision ID: c31
-- Revises: c30
-- Create Date: 2026-02-01

-- migrate:upgrade
TRUNCATE sessions CASCADE;

-- migrate:downgrade
SELECT 1;
