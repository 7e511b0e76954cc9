-- Rebuild an index concurrently
--
-- Revision ID: c41
-- Revises: c40
-- Create Date: 2026-02-01

-- migrate:upgrade transaction=false
REINDEX INDEX CONCURRENTLY invoices_org;

-- migrate:downgrade
SELECT 1;
