-- 002_target_leases.sql (PostgreSQL) - one active job per target collection
-- (issue 9), as src/store/migrations/002_target_leases.sql: a row says which job
-- holds the target collection (Milvus endpoint, database, name); a lease is free
-- when its job is gone or no longer PENDING/IN_PROGRESS. Taken with one
-- INSERT ... ON CONFLICT DO UPDATE ... WHERE, atomic in PostgreSQL.

CREATE TABLE target_leases (
    endpoint TEXT NOT NULL,
    db       TEXT NOT NULL,
    name     TEXT NOT NULL,
    job_id   TEXT NOT NULL,
    taken_ms BIGINT NOT NULL,
    PRIMARY KEY (endpoint, db, name)
);
