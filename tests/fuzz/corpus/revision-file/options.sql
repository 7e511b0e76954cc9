-- Add an index without blocking writes.
--
-- Revision ID: 004_index
-- Revises: 003
-- Create Date: 2026-03-01 12:00:00

-- migrate:upgrade transaction=false lock_timeout=2s statement_timeout=500ms
CREATE INDEX CONCURRENTLY idx_a ON a (id);
ALTER TYPE mood ADD VALUE 'meh';

-- migrate:downgrade transaction=false lock_timeout=2min
DROP INDEX CONCURRENTLY idx_a;
