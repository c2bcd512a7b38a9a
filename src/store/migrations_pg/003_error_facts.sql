-- 003_error_facts.sql (PostgreSQL) - a failed collection keeps the facts of its
-- error (issue 10): the point id and the vector / payload field it is about, beside
-- the message, as src/store/migrations/003_error_facts.sql.

ALTER TABLE job_colls ADD COLUMN error_point TEXT;
ALTER TABLE job_colls ADD COLUMN error_field TEXT;
