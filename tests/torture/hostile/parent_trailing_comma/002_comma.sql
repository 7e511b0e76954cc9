-- A trailing comma leaves an empty parent id.
--
-- Revision ID: h002
-- Revises: h001,
-- Create Date: 2026-01-31

-- migrate:upgrade
CREATE TABLE hostile_u (id integer);
