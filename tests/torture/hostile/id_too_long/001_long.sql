-- A 33-character id (version_num is varchar(32)).
--
-- Revision ID: abcdefghijabcdefghijabcdefghij123
-- Revises:
-- Create Date: 2026-01-31

-- migrate:upgrade
CREATE TABLE hostile_t (id integer);
