-- Owner foreign key, not valid then validated
--
-- Revision ID: c20
-- Revises:
-- Create Date: 2026-02-01

-- migrate:upgrade
ALTER TABLE projects ADD COLUMN owner_id bigint;
ALTER TABLE projects ADD CONSTRAINT projects_owner_fk FOREIGN KEY (owner_id) REFERENCES users (id) NOT VALID;
ALTER TABLE projects VALIDATE CONSTRAINT projects_owner_fk;

-- migrate:downgrade
ALTER TABLE projects DROP CONSTRAINT projects_owner_fk;
ALTER TABLE projects DROP COLUMN owner_id;
