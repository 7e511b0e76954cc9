-- Two Revises lines.
--
-- Revision ID: h001
-- Revises:
-- Revises: h000
-- Create Date: 2026-01-31

-- migrate:upgrade
CREATE TABLE hostile_t (id integer);
