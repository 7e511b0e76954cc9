-- Drop old data; cannot be undone.
-- Revision ID: 005
-- Revises: 004
-- migrate:upgrade
DELETE FROM audit WHERE created_at < now() - interval '1 year';
