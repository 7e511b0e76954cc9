-- Same id as 001_first.sql.
--
-- Revision ID: h001
-- Revises:
-- Create Date: 2026-01-31

-- migrate:upgrade
CREATE TABLE hostile_u (id integer);
