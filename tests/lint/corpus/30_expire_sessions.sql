-- Delete expired sessions
--
-- Revision ID: c30
-- Revises: c29
-- Create Date: 2026-02-01

-- migrate:upgrade
DELETE FROM sessions WHERE expires_at < now();

-- migrate:downgrade
SELECT 1;
