-- Trust: secrets kept apart from the mail that carries them, sign-ups that reveal nothing until
-- confirmed, rate-limited refusals, and audit rows that know which company they concern.

-- The secret (link token or temporary password) a queued message carries. Listings show the
-- message with it hidden; the worker removes it from the row once the mail is delivered.
ALTER TABLE outbox ADD COLUMN secret text;

-- A sign-up (a business account, or a personal account) waiting for its e-mailed link. Nothing
-- is created, and no address is blocked, until the link is used; unconfirmed requests expire.
CREATE TABLE sign_up_requests (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash     bytea NOT NULL UNIQUE,
    kind           text NOT NULL CHECK (kind IN ('account', 'personal')),
    email          text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    display_name   text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
    account_name   text CHECK (length(account_name) BETWEEN 1 AND 100),
    password_hash  text NOT NULL,
    created_at     timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    used_at        timestamptz,
    CHECK ((kind = 'account') = (account_name IS NOT NULL))
);
CREATE INDEX sign_up_requests_expiry ON sign_up_requests (expires_at);

-- Registrations that were waiting for confirmation move to the new table with their links.
INSERT INTO sign_up_requests (token_hash, kind, email, display_name, password_hash, created_at, expires_at)
SELECT t.token_hash, 'personal', u.email, u.display_name, u.password_hash, t.created_at, t.expires_at
  FROM users u JOIN one_time_tokens t ON t.user_id = u.id AND t.purpose = 'email_confirmation'
 WHERE u.status = 'unconfirmed' AND u.password_hash IS NOT NULL AND t.used_at IS NULL;
DELETE FROM users WHERE status = 'unconfirmed';
ALTER TABLE users DROP CONSTRAINT users_status_check;
ALTER TABLE users ADD CONSTRAINT users_status_check
    CHECK (status IN ('invited', 'active', 'disabled', 'removed'));

-- Counters for limits other than sign-in (e.g. addresses a signed-in user was refused).
CREATE TABLE rate_counters (
    key               text PRIMARY KEY,
    window_started_at timestamptz NOT NULL,
    hits              integer NOT NULL
);

-- The company an audit row's record and actor belonged to when it was written, so a staff
-- member sees the history of their own branch only.
ALTER TABLE audit_events ADD COLUMN record_company_id bigint;
ALTER TABLE audit_events ADD COLUMN actor_company_id bigint;
UPDATE audit_events e SET record_company_id = CASE e.record_type
        WHEN 'company' THEN (SELECT c.id FROM companies c WHERE c.account_id = e.account_id AND c.id::text = e.record_id)
        WHEN 'customer' THEN (SELECT c.owner_company_id FROM customers c WHERE c.account_id = e.account_id AND c.id::text = e.record_id)
        WHEN 'user' THEN (SELECT coalesce(u.company_id, c.owner_company_id) FROM users u
                            LEFT JOIN customers c ON c.account_id = u.account_id AND c.id = u.customer_id
                           WHERE u.account_id = e.account_id AND u.id::text = e.record_id)
    END,
    actor_company_id = (SELECT coalesce(u.company_id, c.owner_company_id) FROM users u
                          LEFT JOIN customers c ON c.account_id = u.account_id AND c.id = u.customer_id
                         WHERE u.account_id = e.account_id AND u.id = e.actor_id)
 WHERE e.account_id IS NOT NULL;
