-- One.
-- Revision ID: dup
-- Revises:
-- migrate:upgrade
SELECT 1;
-- fuzz:next-file
-- Two.
-- Revision ID: dup
-- Revises:
-- migrate:upgrade
SELECT 2;
