-- Unterminated dollar quote in a non-transactional section.
--
-- Revision ID: h001
-- Revises:
-- Create Date: 2026-01-31

-- migrate:upgrade transaction=false
CREATE TABLE hostile_t (id integer);
DO $$ BEGIN
  PERFORM 1;
END;
CREATE TABLE hostile_u (id integer);
