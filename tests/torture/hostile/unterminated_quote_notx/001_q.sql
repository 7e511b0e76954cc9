-- Unterminated string in a non-transactional section.
--
-- Revision ID: h001
-- Revises:
-- Create Date: 2026-01-31

-- migrate:upgrade transaction=false
CREATE TABLE hostile_t (id integer);
INSERT INTO hostile_t VALUES (1);
SELECT 'it never ends;
CREATE TABLE hostile_u (id integer);
