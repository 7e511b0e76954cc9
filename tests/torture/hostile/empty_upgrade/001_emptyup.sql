-- The upgrade section holds only comments and blanks.
--
-- Revision ID: h001
-- Revises:
-- Create Date: 2026-01-31

-- migrate:upgrade
-- nothing to see here

/* nor here */

-- migrate:downgrade
SELECT 1;
