-- The Revision ID is empty.
--
-- Revision ID:
-- Revises:
-- Create Date: 2026-01-31

-- migrate:upgrade
CREATE TABLE hostile_t (id integer);
