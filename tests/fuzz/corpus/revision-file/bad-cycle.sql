-- X.
-- Revision ID: x
-- Revises: y
-- migrate:upgrade
SELECT 1;
-- fuzz:next-file
-- Y.
-- Revision ID: y
-- Revises: x
-- migrate:upgrade
SELECT 2;
-- fuzz:next-file
-- Z revises an unknown id.
-- Revision ID: z
-- Revises: nope
-- migrate:upgrade
SELECT 3;
