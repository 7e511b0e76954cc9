-- Nested block comment left open.
--
-- Revision ID: h001
-- Revises:
-- Create Date: 2026-01-31

-- migrate:upgrade transaction=false
CREATE TABLE hostile_t (id integer);
/* outer /* inner */ still in the outer comment;
CREATE TABLE hostile_u (id integer);
