-- Invoices with their index
--
-- Revision ID: c37
-- Revises: c36
-- Create Date: 2026-02-01

-- migrate:upgrade
CREATE TABLE invoices (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, org_id bigint NOT NULL REFERENCES orgs (id), total numeric(10,2) NOT NULL);
CREATE INDEX invoices_org ON invoices (org_id);

-- migrate:downgrade
DROP TABLE invoices;
