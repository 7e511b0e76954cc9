-- Rename projects.name to title
--
-- Revision ID: c26
-- Revises: c25
-- Create Date: 2026-02-01

-- migrate:upgrade
ALTER TABLE projects RENAME COLUMN name TO title;

-- migrate:downgrade
ALTER TABLE projects RENAME COLUMN title TO name;
