-- E'' string whose closing quote is escaped.
--
-- Revision ID: h001
-- Revises:
-- Create Date: 2026-01-31

-- migrate:upgrade transaction=false
CREATE TABLE hostile_t (id integer);
SELECT E'backslash quote \';
CREATE TABLE hostile_u (id integer);
