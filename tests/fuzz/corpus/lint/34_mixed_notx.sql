-- Concurrent index mixed with an update
--
-- Revision ID: c34
-- Revises:
-- Create Date: 2026-02-01

-- migrate:upgrade transaction=false
UPDATE users SET name = email WHERE name IS NULL;
CREATE INDEX CONCURRENTLY users_name ON users (name);

-- migrate:downgrade transaction=false
DROP INDEX CONCURRENTLY users_name;
