-- BEGIN/COMMIT inside the section
--
-- Revision ID: c33
-- Revises:
-- Create Date: 2026-02-01

-- migrate:upgrade
BEGIN;
UPDATE orgs SET name = trim(name) WHERE name <> trim(name);
COMMIT;

-- migrate:downgrade
SELECT 1;
