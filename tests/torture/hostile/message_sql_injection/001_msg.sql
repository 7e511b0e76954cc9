-- x'); DROP TABLE victim; -- $$ \' " %s %n
--
-- Revision ID: h001
-- Revises:
-- Create Date: 2026-01-31'); DROP TABLE victim; --

-- migrate:upgrade
CREATE TABLE hostile_t (id integer);

-- migrate:downgrade
DROP TABLE hostile_t;
