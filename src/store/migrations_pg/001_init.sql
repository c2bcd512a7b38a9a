-- 001_init.sql (PostgreSQL) - the first job store schema, the same tables as
-- src/store/migrations/001_init.sql in PostgreSQL types: BIGINT for times and
-- counters, BYTEA for the secretbox ciphertext, an identity for the log's seq.
-- Applied in one transaction by store/postgres.c under an advisory lock, which then
-- records version 1 in vmigrate_schema. jobs.seq stands in for SQLite's rowid: the
-- insertion order that breaks ties of created_ms when jobs are listed.

CREATE TABLE jobs (
    id               TEXT PRIMARY KEY,
    seq              BIGINT GENERATED ALWAYS AS IDENTITY,
    created_ms       BIGINT NOT NULL,
    started_ms       BIGINT,
    finished_ms      BIGINT,
    status           TEXT NOT NULL CHECK (status IN
                       ('PENDING', 'IN_PROGRESS', 'SUCCESSFUL', 'FAILED', 'CANCELLED')),
    src_url          TEXT NOT NULL,
    src_ca_file      TEXT,
    src_insecure     INTEGER NOT NULL DEFAULT 0,
    dst_url          TEXT NOT NULL,
    dst_db           TEXT,
    dst_ca_file      TEXT,
    dst_insecure     INTEGER NOT NULL DEFAULT 0,
    timeout_ms       BIGINT NOT NULL DEFAULT 0,
    secrets_stored   INTEGER NOT NULL DEFAULT 0,
    src_secret       BYTEA,
    dst_secret       BYTEA,
    plan             TEXT NOT NULL,
    options          TEXT NOT NULL,
    owner_host       TEXT,
    owner_pid        INTEGER,
    heartbeat_ms     BIGINT,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    error            TEXT
);
CREATE INDEX jobs_by_status ON jobs (status, created_ms);

CREATE TABLE job_colls (
    job_id      TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    idx         BIGINT NOT NULL,
    source      TEXT NOT NULL,
    target      TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'PENDING',
    phase       INTEGER NOT NULL DEFAULT 0,
    total       BIGINT NOT NULL DEFAULT 0,
    read        BIGINT NOT NULL DEFAULT 0,
    written     BIGINT NOT NULL DEFAULT 0,
    bytes       BIGINT NOT NULL DEFAULT 0,
    rate        DOUBLE PRECISION NOT NULL DEFAULT 0,
    started_ms  BIGINT,
    finished_ms BIGINT,
    state       TEXT,
    verify      TEXT,
    error       TEXT,
    PRIMARY KEY (job_id, idx)
);

CREATE TABLE job_logs (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id     TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    ts_ms      BIGINT NOT NULL,
    level      INTEGER NOT NULL,
    collection TEXT,
    point_id   TEXT,
    message    TEXT NOT NULL
);
CREATE INDEX job_logs_by_job ON job_logs (job_id, seq);
