-- x revises y.
--
-- Revision ID: hx
-- Revises: h001, hy
-- Create Date: 2026-01-31

-- migrate:upgrade
CREATE TABLE hostile_x (id integer);
