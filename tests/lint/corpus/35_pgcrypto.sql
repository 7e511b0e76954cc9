-- pgcrypto (irreversible)
--
-- Revision ID: c35
-- Revises: c34
-- Create Date: 2026-02-01

-- migrate:upgrade
CREATE EXTENSION IF NOT EXISTS pgcrypto;
