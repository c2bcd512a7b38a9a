-- 004_error_fix_run_time.sql (PostgreSQL) - a failed collection keeps the code and
-- the way out of its error (issue 11), and a job the time it spent running, summed
-- over its runs, as src/store/migrations/004_error_fix_run_time.sql.

ALTER TABLE job_colls ADD COLUMN error_code TEXT;
ALTER TABLE job_colls ADD COLUMN error_fix TEXT;
ALTER TABLE job_colls ADD COLUMN error_fix_arg TEXT;
ALTER TABLE jobs ADD COLUMN run_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN run_started_ms BIGINT;
