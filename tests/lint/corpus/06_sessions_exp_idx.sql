-- Concurrent index in a transactional section
--
-- Revision ID: c06
-- Revises: c05
-- Create Date: 2026-02-01

-- migrate:upgrade
CREATE INDEX CONCURRENTLY sessions_expires ON sessions (expires_at);

-- migrate:downgrade
DROP INDEX sessions_expires;
