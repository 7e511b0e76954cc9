-- Create notes
--
-- Revision ID: 001
-- Revises:
-- Create Date: 2026-01-01

-- migrate:upgrade
CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL);

-- migrate:downgrade
DROP TABLE notes;
