-- Cut in the middle of a marker.
--
-- Revision ID: h001
-- Revises:
-- Create Date: 2026-01-31

-- migrate:upg