-- Required plan column without a default
--
-- Revision ID: c07
-- Revises: c06
-- Create Date: 2026-02-01

-- migrate:upgrade
ALTER TABLE users ADD COLUMN plan text NOT NULL;

-- migrate:downgrade
ALTER TABLE users DROP COLUMN plan;
