-- 005_tasks.sql (PostgreSQL) - range tasks (issue 14), as
-- src/store/migrations/005_tasks.sql: per collection one 'setup' task (idx 0), one
-- 'range' task per read range (idx 1..n, its checkpoint in state) and one 'finish'
-- task (idx 100000). token is the fencing token a claim bumps. lease_until_ms is on
-- the database server's clock (store/postgres_tasks.c), so workers on many machines
-- agree on when a lease ran out.

CREATE TABLE job_tasks (
    job_id         TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    coll           BIGINT NOT NULL,
    idx            INTEGER NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('setup', 'range', 'finish')),
    status         TEXT NOT NULL DEFAULT 'PENDING',
    owner          TEXT,
    lease_until_ms BIGINT,
    token          BIGINT NOT NULL DEFAULT 0,
    attempts       INTEGER NOT NULL DEFAULT 0,
    reclaims       INTEGER NOT NULL DEFAULT 0,
    read           BIGINT NOT NULL DEFAULT 0,
    written        BIGINT NOT NULL DEFAULT 0,
    bytes          BIGINT NOT NULL DEFAULT 0,
    rate           DOUBLE PRECISION NOT NULL DEFAULT 0,
    started_ms     BIGINT,
    finished_ms    BIGINT,
    state          TEXT,
    error          TEXT,
    PRIMARY KEY (job_id, coll, idx)
);
CREATE INDEX job_tasks_by_status ON job_tasks (status, job_id);
-- what a claim walks (store/postgres_tasks.c): the running jobs in claim order, and a
-- job's tasks that are not done yet, so a claim never reads the finished ones
CREATE INDEX job_tasks_open ON job_tasks (job_id, coll, idx) WHERE status <> 'SUCCESSFUL';
CREATE INDEX jobs_running ON jobs (created_ms, id) WHERE status = 'IN_PROGRESS';
