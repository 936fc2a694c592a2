-- CSV imports of customers (issue 13). A job keeps the uploaded file, the settings it is read
-- with, the dry run's outcome per row and the progress of the import, so the page can show it
-- after a reload and from any instance. Only the person who uploaded a file sees its job.
CREATE TABLE import_jobs (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id    bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_by    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    file_name     text NOT NULL CHECK (length(file_name) <= 255),
    content       bytea NOT NULL,
    headers       text[] NOT NULL DEFAULT '{}',
    row_count     bigint NOT NULL DEFAULT 0,
    settings      jsonb,
    status        text NOT NULL CHECK (status IN ('unreadable', 'uploaded', 'checked', 'running', 'done', 'failed')),
    message       text,
    to_create     bigint NOT NULL DEFAULT 0,
    to_update     bigint NOT NULL DEFAULT 0,
    to_skip       bigint NOT NULL DEFAULT 0,
    errors        bigint NOT NULL DEFAULT 0,
    changed       bigint NOT NULL DEFAULT 0,
    done          bigint NOT NULL DEFAULT 0,
    total         bigint NOT NULL DEFAULT 0,
    -- Written with every batch while running; a running job whose heartbeat stopped was
    -- interrupted (its transaction rolled back with the connection).
    heartbeat_at  timestamptz,
    created_at    timestamptz NOT NULL,
    finished_at   timestamptz,
    UNIQUE (account_id, id)
);
CREATE INDEX import_jobs_by_creator ON import_jobs (account_id, created_by, created_at DESC);

CREATE TABLE import_rows (
    account_id  bigint NOT NULL,
    job_id      bigint NOT NULL,
    line        integer NOT NULL,
    title       text NOT NULL,
    outcome     text NOT NULL CHECK (outcome IN ('create', 'update', 'skip', 'error')),
    field       text,
    message     text,
    changed     boolean NOT NULL DEFAULT false,
    PRIMARY KEY (job_id, line),
    FOREIGN KEY (account_id, job_id) REFERENCES import_jobs (account_id, id) ON DELETE CASCADE
);
CREATE INDEX import_rows_by_outcome ON import_rows (job_id, outcome, line);
