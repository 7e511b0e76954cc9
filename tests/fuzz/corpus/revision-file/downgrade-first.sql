-- Sections in the other order, with dollar quotes and BEGIN ATOMIC.
-- Revision ID: fn1
-- Revises:
-- migrate:downgrade
DROP FUNCTION f();
DROP FUNCTION g();
-- migrate:upgrade transaction=false
CREATE FUNCTION f() RETURNS int AS $fn$ SELECT 1; $fn$ LANGUAGE sql;
CREATE FUNCTION g(a int) RETURNS int LANGUAGE sql
BEGIN ATOMIC
  SELECT CASE WHEN a > 0 THEN 1 ELSE 2 END;
END;
