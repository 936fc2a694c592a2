-- Customers, customer types and groups (SPEC 4), self-registration (SPEC 1.5).
--
-- The customer list must stay fast at ten million rows (see PERF-NOTES): every list order has a
-- b-tree that starts with the account, and the title order's index carries what the list filters
-- on (search text, groups, type, owner), so a page is an ordered index walk that stops after 25
-- matches. Rare searches and small groups take the GIN indexes instead.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Customer types: permission sets from the customer-feature catalogue (shared code).
CREATE TABLE customer_types (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id   bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 60),
    description  text CHECK (length(description) <= 1000),
    features     text[] NOT NULL DEFAULT '{}',
    is_default   boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now(),
    version      integer NOT NULL DEFAULT 1,
    UNIQUE (account_id, id)
);
CREATE UNIQUE INDEX customer_types_name_key ON customer_types (account_id, lower(name));
CREATE UNIQUE INDEX customer_types_one_default ON customer_types (account_id) WHERE is_default;

INSERT INTO customer_types (account_id, name, description, is_default)
SELECT id, 'Standard', 'The type new customers get unless you choose another.', true FROM accounts;

-- Named groups; the built-in "All" is every customer and is not stored.
CREATE TABLE customer_groups (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id    bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 60),
    member_count  bigint NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now(),
    version       integer NOT NULL DEFAULT 1,
    UNIQUE (account_id, id)
);
CREATE UNIQUE INDEX customer_groups_name_key ON customer_groups (account_id, lower(name));

CREATE TABLE customers (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id        bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    title             text NOT NULL CHECK (length(title) BETWEEN 1 AND 120),
    company_name      text CHECK (length(company_name) <= 120),
    email             text CHECK (length(email) <= 254),
    phone             text CHECK (length(phone) <= 16),
    country           text CHECK (length(country) <= 60),
    state             text CHECK (length(state) <= 60),
    city              text CHECK (length(city) <= 60),
    address           text CHECK (length(address) <= 200),
    address2          text CHECK (length(address2) <= 200),
    zip               text CHECK (length(zip) <= 20),
    description       text CHECK (length(description) <= 1000),
    customer_type_id  bigint NOT NULL,
    owner_company_id  bigint NOT NULL,
    parent_id         bigint,
    -- Membership of named groups; denormalised here so list filters need no join.
    group_ids         bigint[] NOT NULL DEFAULT '{}',
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    version           integer NOT NULL DEFAULT 1,
    title_sort        text GENERATED ALWAYS AS (lower(title)) STORED,
    email_sort        text GENERATED ALWAYS AS (lower(email)) STORED,
    search            text GENERATED ALWAYS AS (
                          lower(title || ' ' || coalesce(email, '') || ' ' || coalesce(company_name, '') || ' ' || coalesce(city, ''))
                      ) STORED,
    UNIQUE (account_id, id),
    FOREIGN KEY (account_id, customer_type_id) REFERENCES customer_types (account_id, id),
    FOREIGN KEY (account_id, owner_company_id) REFERENCES companies (account_id, id),
    FOREIGN KEY (account_id, parent_id) REFERENCES customers (account_id, id),
    CHECK (parent_id <> id)
);

-- Titles are unique per account, case-insensitively; the same index serves the title order and
-- carries the columns the list filters on, for index-only walks.
CREATE UNIQUE INDEX customers_title_key ON customers (account_id, title_sort)
    INCLUDE (id, search, group_ids, customer_type_id, owner_company_id, parent_id);
-- Other orders: blank values sort first, the title breaks ties (titles are unique).
CREATE INDEX customers_by_city ON customers (account_id, (coalesce(city, '')), title_sort);
CREATE INDEX customers_by_country ON customers (account_id, (coalesce(country, '')), title_sort);
CREATE INDEX customers_by_email ON customers (account_id, (coalesce(email_sort, '')), title_sort);
CREATE INDEX customers_by_created ON customers (account_id, created_at, id);
CREATE INDEX customers_search ON customers USING gin (search gin_trgm_ops);
CREATE INDEX customers_groups ON customers USING gin (group_ids);
CREATE INDEX customers_parent ON customers (account_id, parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX customers_owner ON customers (account_id, owner_company_id);
CREATE INDEX customers_type ON customers (account_id, customer_type_id);

-- Counts shown on the billing page and as the list's total, kept exact in the same transactions.
ALTER TABLE accounts ADD COLUMN customer_count bigint NOT NULL DEFAULT 0;

-- Each user remembers their customer list page size.
ALTER TABLE users ADD COLUMN customer_page_size integer NOT NULL DEFAULT 25
    CHECK (customer_page_size IN (10, 25, 50, 100));

-- Customer users belong to one customer. Self-registered people wait for an e-mail
-- confirmation ('unconfirmed') before they can sign in.
ALTER TABLE users ADD COLUMN customer_id bigint;
ALTER TABLE users ADD CONSTRAINT users_customer_fkey FOREIGN KEY (account_id, customer_id)
    REFERENCES customers (account_id, id) ON DELETE CASCADE;
ALTER TABLE users ADD CONSTRAINT users_customer_placed CHECK ((kind = 'customer') = (customer_id IS NOT NULL));
CREATE INDEX users_customer ON users (account_id, customer_id) WHERE customer_id IS NOT NULL;
ALTER TABLE users DROP CONSTRAINT users_status_check;
ALTER TABLE users ADD CONSTRAINT users_status_check
    CHECK (status IN ('unconfirmed', 'invited', 'active', 'disabled', 'removed'));
