-- Two Revision ID lines.
--
-- Revision ID: h001
-- Revision ID: h002
-- Revises:
-- Create Date: 2026-01-31

-- migrate:upgrade
CREATE TABLE hostile_t (id integer);
