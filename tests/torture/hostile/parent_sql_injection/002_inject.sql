-- SQL injection in the parent list.
--
-- Revision ID: h002
-- Revises: h001'; DROP TABLE victim; --
-- Create Date: 2026-01-31

-- migrate:upgrade
CREATE TABLE hostile_u (id integer);
