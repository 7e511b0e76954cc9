-- Invoice totals up to 12 digits
--
-- Revision ID: c38
-- Revises: c37
-- Create Date: 2026-02-01

-- migrate:upgrade
ALTER TABLE invoices ALTER COLUMN total TYPE numeric(12,2);

-- migrate:downgrade
ALTER TABLE invoices ALTER COLUMN total TYPE numeric(10,2);
