-- Root.
-- Revision ID: base1
-- Revises:
-- migrate:upgrade
SELECT 1;
-- migrate:downgrade
SELECT 1;
-- fuzz:next-file
-- Branch a.
-- Revision ID: a1
-- Revises: base1
-- migrate:upgrade
CREATE TABLE a (id int);
-- migrate:downgrade
DROP TABLE a;
-- fuzz:next-file
-- Branch b.
-- Revision ID: b1
-- Revises: base1
-- migrate:upgrade
CREATE TABLE b (id int);
-- migrate:downgrade
DROP TABLE b;
-- fuzz:next-file
-- Merge a and b.
-- Revision ID: m1
-- Revises: a1, b1
-- migrate:upgrade
-- migrate:downgrade
