-- Foundation: accounts, companies, roles, users, sessions, one-time tokens, sign-in throttling,
-- the e-mail outbox and the audit log. Every table that belongs to an account carries account_id.

CREATE TABLE accounts (
    id                       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                     text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    invitation_valid_days    integer NOT NULL DEFAULT 7 CHECK (invitation_valid_days BETWEEN 1 AND 30),
    session_idle_minutes     integer CHECK (session_idle_minutes BETWEEN 5 AND 1440),
    session_absolute_hours   integer CHECK (session_absolute_hours BETWEEN 1 AND 720),
    created_at               timestamptz NOT NULL DEFAULT now(),
    version                  integer NOT NULL DEFAULT 1
);

-- The account's own company is the root of its tree; distributors and installers hang below.
CREATE TABLE companies (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    parent_id   bigint,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    kind        text NOT NULL CHECK (kind IN ('root', 'distributor', 'installer')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    version     integer NOT NULL DEFAULT 1,
    UNIQUE (account_id, id),
    FOREIGN KEY (account_id, parent_id) REFERENCES companies (account_id, id),
    CHECK ((kind = 'root') = (parent_id IS NULL))
);
CREATE UNIQUE INDEX companies_one_root_per_account ON companies (account_id) WHERE parent_id IS NULL;
CREATE INDEX companies_parent ON companies (account_id, parent_id);

CREATE TABLE roles (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id  bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 60),
    rank        integer NOT NULL CHECK (rank >= 0),
    builtin     text CHECK (builtin IN ('administrator', 'common_manager', 'operations_engineer', 'owner')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    version     integer NOT NULL DEFAULT 1,
    UNIQUE (account_id, id),
    -- Rank 0 is the Administrator's alone (SPEC 2.1).
    CHECK ((rank = 0) = (builtin IS NOT DISTINCT FROM 'administrator'))
);
CREATE UNIQUE INDEX roles_name_key ON roles (account_id, lower(name));
CREATE UNIQUE INDEX roles_builtin_key ON roles (account_id, builtin) WHERE builtin IS NOT NULL;

CREATE TABLE role_permissions (
    account_id  bigint NOT NULL,
    role_id     bigint NOT NULL,
    permission  text NOT NULL,
    PRIMARY KEY (role_id, permission),
    FOREIGN KEY (account_id, role_id) REFERENCES roles (account_id, id) ON DELETE CASCADE
);

-- Everyone who signs in: staff of an account, customer users (later), and people who registered
-- themselves and belong to no account yet (SPEC 1.5). E-mail is the sign-in name, so it is
-- unique across the whole installation.
CREATE TABLE users (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id            bigint REFERENCES accounts (id) ON DELETE CASCADE,
    kind                  text NOT NULL CHECK (kind IN ('staff', 'customer', 'registered')),
    email                 text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    display_name          text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
    phone                 text CHECK (length(phone) <= 16),
    region                text CHECK (length(region) <= 40),
    language              text NOT NULL DEFAULT 'en' CHECK (length(language) <= 8),
    description           text CHECK (length(description) <= 1000),
    company_id            bigint,
    role_id               bigint,
    status                text NOT NULL DEFAULT 'active' CHECK (status IN ('invited', 'active', 'disabled')),
    password_hash         text,
    must_change_password  boolean NOT NULL DEFAULT false,
    password_expires_at   timestamptz,
    password_changed_at   timestamptz,
    last_sign_in_at       timestamptz,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    version               integer NOT NULL DEFAULT 1,
    UNIQUE (account_id, id),
    FOREIGN KEY (account_id, company_id) REFERENCES companies (account_id, id),
    FOREIGN KEY (account_id, role_id) REFERENCES roles (account_id, id),
    CHECK ((kind = 'registered') = (account_id IS NULL)),
    CHECK (kind <> 'staff' OR (company_id IS NOT NULL AND role_id IS NOT NULL))
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE INDEX users_account_company ON users (account_id, company_id);
CREATE INDEX users_account_role ON users (account_id, role_id);

-- Only a hash of the cookie's token is stored, so a copy of this table opens no session.
CREATE TABLE sessions (
    token_hash    bytea PRIMARY KEY,
    user_id       bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    account_id    bigint REFERENCES accounts (id) ON DELETE CASCADE,
    created_at    timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL,
    idle_seconds  integer NOT NULL CHECK (idle_seconds > 0),
    idle_expires_at      timestamptz NOT NULL,
    absolute_expires_at  timestamptz NOT NULL,
    client_ip     text,
    user_agent    text
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (absolute_expires_at);

-- Single-use links (password reset, invitations, activation, e-mail confirmation): hashed at rest.
CREATE TABLE one_time_tokens (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash  bytea NOT NULL UNIQUE,
    purpose     text NOT NULL CHECK (purpose IN ('password_reset', 'invitation', 'activation', 'email_confirmation')),
    user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    account_id  bigint REFERENCES accounts (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    revoked_at  timestamptz
);
CREATE INDEX one_time_tokens_user ON one_time_tokens (user_id, purpose);

-- Failed sign-ins per e-mail and per client address (SPEC 1.8). Not account data: an attempt
-- may name an address nobody has.
CREATE TABLE sign_in_throttle (
    key               text PRIMARY KEY,
    failures          integer NOT NULL,
    window_started_at timestamptz NOT NULL,
    last_failure_at   timestamptz NOT NULL,
    locked_until      timestamptz
);

-- Messages are written here in the same transaction as the change that causes them and
-- delivered by a background worker (SPEC 6).
CREATE TABLE outbox (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id       bigint REFERENCES accounts (id) ON DELETE CASCADE,
    kind             text NOT NULL,
    to_address       text NOT NULL,
    subject          text NOT NULL,
    body_text        text NOT NULL,
    body_html        text NOT NULL,
    status           text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    last_error       text,
    next_attempt_at  timestamptz NOT NULL,
    created_at       timestamptz NOT NULL,
    sent_at          timestamptz
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'queued';
CREATE INDEX outbox_account ON outbox (account_id, id DESC);

-- Who did what, to which record, when and from where (SPEC 7.1). account_id is null only for
-- events that concern no account (a failed sign-in for an unknown address, a self-registration).
CREATE TABLE audit_events (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id   bigint REFERENCES accounts (id) ON DELETE CASCADE,
    occurred_at  timestamptz NOT NULL,
    actor_id     bigint REFERENCES users (id) ON DELETE SET NULL,
    actor_label  text NOT NULL,
    action       text NOT NULL,
    record_type  text NOT NULL,
    record_id    text,
    client_ip    text,
    changes      jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_events_account_time ON audit_events (account_id, occurred_at DESC, id DESC);
CREATE INDEX audit_events_record ON audit_events (account_id, record_type, record_id);
