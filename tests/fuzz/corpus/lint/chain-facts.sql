-- Users
--
-- Revision ID: c01
-- Revises: 
-- Create Date: 2026-02-01

-- migrate:upgrade
CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL, legacy_flag boolean, created_at timestamptz NOT NULL DEFAULT now());
CREATE UNIQUE INDEX users_email ON users (email);

-- migrate:downgrade
DROP TABLE users;

-- fuzz:next-file
-- Drop users.legacy_flag
--
-- Revision ID: c24
-- Revises: c01
-- Create Date: 2026-02-01

-- migrate:upgrade
ALTER TABLE users DROP COLUMN legacy_flag;

-- migrate:downgrade
ALTER TABLE users ADD COLUMN legacy_flag boolean;
