-- Webhooks; the downgrade forgets one table
--
-- Revision ID: c36
-- Revises:
-- Create Date: 2026-02-01

-- migrate:upgrade
CREATE TABLE webhooks (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, url text NOT NULL);
CREATE TABLE webhook_events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, webhook_id bigint NOT NULL REFERENCES webhooks (id));

-- migrate:downgrade
DROP TABLE webhooks CASCADE;
