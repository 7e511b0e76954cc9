-- The Revises line is missing.
--
-- Revision ID: h001
-- Create Date: 2026-01-31

-- migrate:upgrade
CREATE TABLE hostile_t (id integer);
