-- 003_error_facts.sql - a failed collection keeps the facts of its error (issue 10):
-- the point id and the vector / payload field it is about, beside the message, so
-- that nobody reads them back out of the message text.

ALTER TABLE job_colls ADD COLUMN error_point TEXT;
ALTER TABLE job_colls ADD COLUMN error_field TEXT;
