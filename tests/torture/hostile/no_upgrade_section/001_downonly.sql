-- Only a downgrade section.
--
-- Revision ID: h001
-- Revises:
-- Create Date: 2026-01-31

-- migrate:downgrade
DROP TABLE hostile_t;
