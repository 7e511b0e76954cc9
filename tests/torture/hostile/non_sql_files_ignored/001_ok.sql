-- A valid root revision.
--
-- Revision ID: h001
-- Revises:
-- Create Date: 2026-01-31

-- migrate:upgrade
CREATE TABLE hostile_t (id integer);

-- migrate:downgrade
DROP TABLE hostile_t;
