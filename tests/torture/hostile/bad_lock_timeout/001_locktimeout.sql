-- lock_timeout that is not a duration.
--
-- Revision ID: h001
-- Revises:
-- Create Date: 2026-01-31

-- migrate:upgrade lock_timeout=soon
CREATE TABLE hostile_t (id integer);
