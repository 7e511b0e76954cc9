-- y revises x.
--
-- Revision ID: hy
-- Revises: hx
-- Create Date: 2026-01-31

-- migrate:upgrade
CREATE TABLE hostile_y (id integer);
