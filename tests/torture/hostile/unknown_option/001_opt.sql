-- An unknown section option.
--
-- Revision ID: h001
-- Revises:
-- Create Date: 2026-01-31

-- migrate:upgrade transaction=false frobnicate=yes
CREATE TABLE hostile_t (id integer);
