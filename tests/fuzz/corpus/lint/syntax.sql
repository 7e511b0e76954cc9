-- s
--
-- Revision ID: s1
-- Revises:

-- migrate:upgrade
SELECT 'é' FRM x;
-- migrate:downgrade
DROP TABEL t;
