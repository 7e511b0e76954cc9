-- SQL injection in the id.
--
-- Revision ID: x'); DROP TABLE victim; --
-- Revises:
-- Create Date: 2026-01-31

-- migrate:upgrade
CREATE TABLE hostile_t (id integer);
