-- Missing Revises and two ids.
-- Revision ID: a b
-- Revision ID: 'quoted'
-- migrate:upgrade
-- migrate:upgrade
SELECT 1;
