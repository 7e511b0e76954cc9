-- An id with a non-ASCII letter.
--
-- Revision ID: révision
-- Revises:
-- Create Date: 2026-01-31

-- migrate:upgrade
CREATE TABLE hostile_t (id integer);
