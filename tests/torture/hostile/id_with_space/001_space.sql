-- An id with a space.
--
-- Revision ID: h0 1
-- Revises:
-- Create Date: 2026-01-31

-- migrate:upgrade
CREATE TABLE hostile_t (id integer);
