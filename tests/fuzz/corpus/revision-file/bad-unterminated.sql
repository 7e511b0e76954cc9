-- Unterminated dollar quote in a non-transactional section.
-- Revision ID: unt
-- Revises:
-- migrate:upgrade transaction=false
CREATE FUNCTION f() RETURNS int AS $fn$ SELECT 1;
-- migrate:downgrade
SELECT 'x
