-- transaction= with a value that is neither true nor false.
--
-- Revision ID: h001
-- Revises:
-- Create Date: 2026-01-31

-- migrate:upgrade transaction=maybe
CREATE TABLE hostile_t (id integer);
