-- Organisations, memberships, sessions, audit log
--
-- Revision ID: c02
-- Revises:
-- Create Date: 2026-02-01

-- migrate:upgrade
CREATE TABLE orgs (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text, slug text);
CREATE TABLE memberships (user_id bigint NOT NULL REFERENCES users (id), org_id bigint NOT NULL REFERENCES orgs (id), PRIMARY KEY (user_id, org_id));
CREATE TABLE sessions (id text PRIMARY KEY, user_id bigint NOT NULL REFERENCES users (id), expires_at timestamptz NOT NULL);
CREATE TABLE audit_log (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body jsonb);
CREATE INDEX sessions_user ON sessions (user_id);

-- migrate:downgrade
DROP TABLE audit_log;
DROP TABLE sessions;
DROP TABLE memberships;
DROP TABLE orgs;
