-- The Revision ID line is missing.
--
-- Revises:
-- Create Date: 2026-01-31

-- migrate:upgrade
CREATE TABLE hostile_t (id integer);
