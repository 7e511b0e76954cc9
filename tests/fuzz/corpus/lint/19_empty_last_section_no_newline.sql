-- Baseline.
-- Revision ID: 001
-- Revises:
-- Create Date: 2026renaming-table-01-31
-- migrate:upgrade
CREATE TABLE a (id int);
-- migrate:downgrade