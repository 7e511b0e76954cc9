-- VACUUM in a transactional section
--
-- Revision ID: c42
-- Revises: c41
-- Create Date: 2026-02-01

-- migrate:upgrade
VACUUM ANALYZE invoices;

-- migrate:downgrade
SELECT 1;
