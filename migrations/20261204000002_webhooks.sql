-- Webhooks (issue 12): an account's endpoints, and the deliveries written in the transaction
-- of each change and sent by the worker. The signing secret is kept as is (signing needs it)
-- and shown only when made or rotated.

CREATE TABLE webhooks (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    url         text NOT NULL CHECK (length(url) BETWEEN 8 AND 2000),
    secret      text NOT NULL,
    events      text[] NOT NULL CHECK (cardinality(events) > 0),
    enabled     boolean NOT NULL DEFAULT true,
    created_by  bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL,
    version     integer NOT NULL DEFAULT 1,
    UNIQUE (account_id, id)
);
CREATE INDEX webhooks_account ON webhooks (account_id) WHERE enabled;

CREATE TABLE webhook_deliveries (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id       bigint NOT NULL,
    webhook_id       bigint NOT NULL,
    event_id         text NOT NULL,
    event_type       text NOT NULL,
    payload          jsonb NOT NULL,
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    response_code    integer,
    last_error       text,
    created_at       timestamptz NOT NULL,
    next_attempt_at  timestamptz NOT NULL,
    last_attempt_at  timestamptz,
    delivered_at     timestamptz,
    -- Set while a worker sends it (until next_attempt_at, the claim's end); its outcome is
    -- written only under the same claim.
    claim            bigint,
    FOREIGN KEY (account_id, webhook_id) REFERENCES webhooks (account_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (account_id, created_at DESC, id DESC);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (account_id, webhook_id);
