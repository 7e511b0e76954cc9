-- A waiver without a reason
--
-- Revision ID: c44
-- Revises:
-- Create Date: 2026-02-01

-- migrate:upgrade
-- migrate:lint ignore=dml-without-where
UPDATE users SET score = 0;

-- migrate:downgrade
SELECT 1;
