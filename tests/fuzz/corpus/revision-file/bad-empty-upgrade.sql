-- Empty upgrade.
-- Revision ID: empty
-- Revises:
-- migrate:upgrade

-- migrate:downgrade
SELECT 1;
