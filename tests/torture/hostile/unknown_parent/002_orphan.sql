-- Revises a revision that does not exist.
--
-- Revision ID: h002
-- Revises: nothere
-- Create Date: 2026-01-31

-- migrate:upgrade
CREATE TABLE hostile_u (id integer);
