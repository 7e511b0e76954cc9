-- Baseline: create all tables.
--
-- Revision ID: 001
-- Revises:
-- Create Date: 2026-01-31

-- migrate:upgrade
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE projects (
    id varchar(36) PRIMARY KEY,
    name varchar(255) NOT NULL UNIQUE,
    created_at timestamp NOT NULL
);

CREATE TABLE documents (
    id varchar(36) PRIMARY KEY,
    project_id varchar(36) NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    filename varchar(255) NOT NULL,
    original_path varchar(512) NOT NULL,
    file_type varchar(50) NOT NULL,
    status varchar(50) NOT NULL DEFAULT 'pending',
    error_message text,
    metadata json,
    created_at timestamp NOT NULL,
    indexed_at timestamp
);

CREATE TABLE chunks (
    id varchar(36) PRIMARY KEY,
    document_id varchar(36) NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    content text NOT NULL,
    embedding vector(768),
    position integer NOT NULL,
    structure json,
    metadata json,
    status varchar(50) NOT NULL DEFAULT 'pending',
    parent_id varchar(36) REFERENCES chunks (id) ON DELETE CASCADE
);

CREATE TABLE indexing_tasks (
    id varchar(36) PRIMARY KEY,
    document_id varchar(36) NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    task_type varchar(50) NOT NULL,
    status varchar(50) NOT NULL DEFAULT 'pending',
    created_at timestamp NOT NULL,
    started_at timestamp,
    completed_at timestamp
);

-- migrate:downgrade
DROP TABLE indexing_tasks;
DROP TABLE chunks;
DROP TABLE documents;
DROP TABLE projects;
DROP EXTENSION IF EXISTS vector;
