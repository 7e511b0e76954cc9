-- Baseline.
-- Revision ID: 001
-- Revises:
-- Create Date: 2026-01-31
-- migrate:upgrade
CREATE TABLE a (id int);
-- migrate:downgrade
DROP TABLE a;
-- fuzz:next-file
-- Add b.
-- Revision ID: 002
-- Revises: 001
-- Create Date: 2026-02-01
-- migrate:upgrade
CREATE TABLE b (id int);
-- migrate:downgrade
DROP TABLE b;
-- fuzz:next-file
-- Add c.
-- Revision ID: 003_add_c
-- Revises: 002
-- migrate:upgrade
CREATE TABLE c (id int);
