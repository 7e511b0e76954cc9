-- b revises a.
--
-- Revision ID: hb
-- Revises: ha
-- Create Date: 2026-01-31

-- migrate:upgrade
CREATE TABLE hostile_b (id integer);
