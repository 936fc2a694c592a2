-- API keys (issue 12): a key belongs to an account and acts for the staff user who made it,
-- within a company subtree and a subset of that user's permissions. Only the SHA-256 of the
-- secret is kept; the prefix is what the list shows to tell keys apart. Removing the creator
-- or the company removes the key; a disabled creator's keys are refused at sign-in.

CREATE TABLE api_keys (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id    bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 60),
    token_hash    bytea NOT NULL UNIQUE,
    prefix        text NOT NULL CHECK (length(prefix) BETWEEN 4 AND 20),
    created_by    bigint NOT NULL,
    company_id    bigint NOT NULL,
    permissions   text[] NOT NULL,
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    last_used_at  timestamptz,
    revoked_at    timestamptz,
    UNIQUE (account_id, id),
    FOREIGN KEY (account_id, created_by) REFERENCES users (account_id, id) ON DELETE CASCADE,
    FOREIGN KEY (account_id, company_id) REFERENCES companies (account_id, id) ON DELETE CASCADE,
    CHECK (expires_at > created_at)
);
CREATE INDEX api_keys_account ON api_keys (account_id, created_at DESC);
CREATE INDEX api_keys_created_by ON api_keys (account_id, created_by);
