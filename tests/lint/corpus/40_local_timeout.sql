-- Local lock timeout for one ALTER
--
-- Revision ID: c40
-- Revises: c39
-- Create Date: 2026-02-01

-- migrate:upgrade
SET LOCAL lock_timeout = '1s';
ALTER TABLE invoices ADD COLUMN paid_at timestamptz;

-- migrate:downgrade
ALTER TABLE invoices DROP COLUMN paid_at;
