-- With a BOM.
-- Revision ID: bom1
-- Revises:

-- migrate:upgrade
SELECT 1;
-- migrate:downgrade
SELECT 2;
