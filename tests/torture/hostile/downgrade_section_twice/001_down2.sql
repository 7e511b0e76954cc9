-- The downgrade section appears twice.
--
-- Revision ID: h001
-- Revises:
-- Create Date: 2026-01-31

-- migrate:upgrade
CREATE TABLE hostile_t (id integer);

-- migrate:downgrade
DROP TABLE hostile_t;

-- migrate:downgrade
DROP TABLE hostile_t;
