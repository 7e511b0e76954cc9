-- Unterminated string in a non-transactional downgrade section.
--
-- Revision ID: h001
-- Revises:
-- Create Date: 2026-01-31

-- migrate:upgrade
CREATE TABLE hostile_t (id integer);

-- migrate:downgrade transaction=false
DROP TABLE hostile_t;
SELECT 'open;
