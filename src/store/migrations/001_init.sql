-- 001_init.sql - the first job store schema: jobs, their collections (status,
-- progress, checkpoint state, verification) and the error log. Applied in a
-- transaction by store/sqlite.c, which then sets PRAGMA user_version = 1.
-- Secrets are only ever stored as libsodium secretbox ciphertext (nonce || box).

CREATE TABLE jobs (
    id               TEXT PRIMARY KEY,
    created_ms       INTEGER NOT NULL,
    started_ms       INTEGER,
    finished_ms      INTEGER,
    status           TEXT NOT NULL CHECK (status IN
                       ('PENDING', 'IN_PROGRESS', 'SUCCESSFUL', 'FAILED', 'CANCELLED')),
    src_url          TEXT NOT NULL,
    src_ca_file      TEXT,
    src_insecure     INTEGER NOT NULL DEFAULT 0,
    dst_url          TEXT NOT NULL,
    dst_db           TEXT,
    dst_ca_file      TEXT,
    dst_insecure     INTEGER NOT NULL DEFAULT 0,
    timeout_ms       INTEGER NOT NULL DEFAULT 0,
    secrets_stored   INTEGER NOT NULL DEFAULT 0,
    src_secret       BLOB,
    dst_secret       BLOB,
    plan             TEXT NOT NULL,
    options          TEXT NOT NULL,
    owner_host       TEXT,
    owner_pid        INTEGER,
    heartbeat_ms     INTEGER,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    error            TEXT
);
CREATE INDEX jobs_by_status ON jobs (status, created_ms);

CREATE TABLE job_colls (
    job_id      TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    idx         INTEGER NOT NULL,
    source      TEXT NOT NULL,
    target      TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'PENDING',
    phase       INTEGER NOT NULL DEFAULT 0,
    total       INTEGER NOT NULL DEFAULT 0,
    read        INTEGER NOT NULL DEFAULT 0,
    written     INTEGER NOT NULL DEFAULT 0,
    bytes       INTEGER NOT NULL DEFAULT 0,
    rate        REAL NOT NULL DEFAULT 0,
    started_ms  INTEGER,
    finished_ms INTEGER,
    state       TEXT,
    verify      TEXT,
    error       TEXT,
    PRIMARY KEY (job_id, idx)
);

CREATE TABLE job_logs (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id     TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    ts_ms      INTEGER NOT NULL,
    level      INTEGER NOT NULL,
    collection TEXT,
    point_id   TEXT,
    message    TEXT NOT NULL
);
CREATE INDEX job_logs_by_job ON job_logs (job_id, seq);
