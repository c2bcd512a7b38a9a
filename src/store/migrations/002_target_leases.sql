-- 002_target_leases.sql - one active job per target collection (issue 9).
-- A row says which job holds the target collection (Milvus endpoint, database,
-- name). A lease is free when its job is gone or no longer PENDING/IN_PROGRESS,
-- so ending a job (or deleting it) releases its leases without another write.
-- Taken with one INSERT ... ON CONFLICT DO UPDATE ... WHERE, which SQLite and
-- PostgreSQL both run atomically.

CREATE TABLE target_leases (
    endpoint TEXT NOT NULL,
    db       TEXT NOT NULL,
    name     TEXT NOT NULL,
    job_id   TEXT NOT NULL,
    taken_ms INTEGER NOT NULL,
    PRIMARY KEY (endpoint, db, name)
);
