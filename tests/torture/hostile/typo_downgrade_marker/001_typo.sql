-- A misspelt section marker: if it were taken for a comment, the DROP
-- below would run as part of the upgrade.
--
-- Revision ID: h001
-- Revises:
-- Create Date: 2026-01-31

-- migrate:upgrade
CREATE TABLE hostile_t (id integer);

-- migrate:downgarde
DROP TABLE victim;
