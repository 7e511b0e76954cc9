-- A revision that revises itself.
--
-- Revision ID: h001
-- Revises: h001
-- Create Date: 2026-01-31

-- migrate:upgrade
CREATE TABLE hostile_t (id integer);
