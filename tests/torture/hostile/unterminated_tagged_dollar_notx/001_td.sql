-- $fn$ closed by a different tag.
--
-- Revision ID: h001
-- Revises:
-- Create Date: 2026-01-31

-- migrate:upgrade transaction=false
CREATE TABLE hostile_t (id integer);
CREATE FUNCTION hostile_f() RETURNS int LANGUAGE sql AS $fn$
  SELECT 1;
$fm$;
