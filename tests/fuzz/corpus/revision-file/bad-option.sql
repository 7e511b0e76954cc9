-- Unknown option.
-- Revision ID: bad1
-- Revises:
-- migrate:upgrade transaction=maybe retries=3
SELECT 1;
