-- Unterminated quoted identifier.
--
-- Revision ID: h001
-- Revises:
-- Create Date: 2026-01-31

-- migrate:upgrade transaction=false
CREATE TABLE hostile_t (id integer);
CREATE TABLE "hostile_u (id integer);
