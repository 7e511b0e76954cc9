-- The upgrade section appears twice.
--
-- Revision ID: h001
-- Revises:
-- Create Date: 2026-01-31

-- migrate:upgrade
CREATE TABLE hostile_t (id integer);

-- migrate:upgrade
CREATE TABLE hostile_u (id integer);
