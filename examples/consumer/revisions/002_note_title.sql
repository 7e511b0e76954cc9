-- Add a title to notes
--
-- Revision ID: 002
-- Revises: 001
-- Create Date: 2026-01-02

-- migrate:upgrade
ALTER TABLE notes ADD COLUMN title text;

-- migrate:downgrade
ALTER TABLE notes DROP COLUMN title;
