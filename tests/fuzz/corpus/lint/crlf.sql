-- CRLF line endings.
--
-- Revision ID: crlf1
-- Revises:
-- Create Date: 2026-01-31

-- migrate:upgrade
CREATE TABLE t (
  x text DEFAULT 'a
b'
);

-- migrate:downgrade
DROP TABLE t;
