-- 004_error_fix_run_time.sql - a failed collection keeps the code and the way out of
-- its error (issue 11: each face words the way out, the console offers its control),
-- and a job the time it spent running, summed over its runs (the time it sat
-- cancelled or failed before a resume is not its duration).

ALTER TABLE job_colls ADD COLUMN error_code TEXT;
ALTER TABLE job_colls ADD COLUMN error_fix TEXT;
ALTER TABLE job_colls ADD COLUMN error_fix_arg TEXT;
ALTER TABLE jobs ADD COLUMN run_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN run_started_ms INTEGER;
