-- Drop the audit log
--
-- Revision ID: c28
-- Revises: c27
-- Create Date: 2026-02-01

-- migrate:upgrade
DROP TABLE audit_log;

-- migrate:downgrade
CREATE TABLE audit_log (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body jsonb);
