-- 005_tasks.sql - range tasks (issue 14): a job's collections split into tasks that
-- many `vmigrate worker` processes claim with a lease. Per collection one 'setup'
-- task (idx 0), one 'range' task per read range (idx 1..n, its checkpoint in state)
-- and one 'finish' task (idx 100000). token is the fencing token a claim bumps: a
-- write names it and changes nothing once another claim took the task.

CREATE TABLE job_tasks (
    job_id         TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    coll           INTEGER NOT NULL,
    idx            INTEGER NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('setup', 'range', 'finish')),
    status         TEXT NOT NULL DEFAULT 'PENDING',
    owner          TEXT,
    lease_until_ms INTEGER,
    token          INTEGER NOT NULL DEFAULT 0,
    attempts       INTEGER NOT NULL DEFAULT 0,
    reclaims       INTEGER NOT NULL DEFAULT 0,
    read           INTEGER NOT NULL DEFAULT 0,
    written        INTEGER NOT NULL DEFAULT 0,
    bytes          INTEGER NOT NULL DEFAULT 0,
    rate           REAL NOT NULL DEFAULT 0,
    started_ms     INTEGER,
    finished_ms    INTEGER,
    state          TEXT,
    error          TEXT,
    PRIMARY KEY (job_id, coll, idx)
);
CREATE INDEX job_tasks_by_status ON job_tasks (status, job_id);
