-- a revises b.
--
-- Revision ID: ha
-- Revises: hb
-- Create Date: 2026-01-31

-- migrate:upgrade
CREATE TABLE hostile_a (id integer);
