-- Imports of customer users beside those of customers (issue 13). A job says what its file
-- holds. `answered` keeps the addresses (folded as the unique index folds them) that the job has
-- told its uploader cannot be used: checking the same file again does not count them against
-- the uploader's hourly allowance of such answers a second time.
ALTER TABLE import_jobs
    ADD COLUMN kind text NOT NULL DEFAULT 'customers' CHECK (kind IN ('customers', 'customer_users')),
    ADD COLUMN answered text[] NOT NULL DEFAULT '{}';
DROP INDEX import_jobs_by_creator;
CREATE INDEX import_jobs_by_creator ON import_jobs (account_id, created_by, kind, created_at DESC);
