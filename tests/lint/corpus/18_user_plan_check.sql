-- Plan check without NOT VALID
--
-- Revision ID: c18
-- Revises: c17
-- Create Date: 2026-02-01

-- migrate:upgrade
ALTER TABLE users ADD CONSTRAINT users_tier_ck CHECK (tier IN ('free', 'pro'));

-- migrate:downgrade
ALTER TABLE users DROP CONSTRAINT users_tier_ck;
