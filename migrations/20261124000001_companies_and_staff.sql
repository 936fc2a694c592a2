-- Companies and staff users: the company tree with ancestor paths for scope checks, removed
-- users (who keep their audit history and free their e-mail for a new invitation), and who sent
-- a single-use link.

-- Each company's chain of ancestors, root first, itself last. "Company X and everything below
-- it" is `path @> ARRAY[X]`, answered from the GIN index.
ALTER TABLE companies ADD COLUMN path bigint[];
UPDATE companies SET path = ARRAY[id] WHERE parent_id IS NULL;
ALTER TABLE companies ALTER COLUMN path SET NOT NULL;
CREATE INDEX companies_path ON companies USING gin (path);
-- Sibling companies have distinct names.
CREATE UNIQUE INDEX companies_sibling_name_key ON companies (account_id, parent_id, lower(name))
    WHERE parent_id IS NOT NULL;

-- A removed user is out of the account: no sign-in, no listing, e-mail free to be invited again.
ALTER TABLE users DROP CONSTRAINT users_status_check;
ALTER TABLE users ADD CONSTRAINT users_status_check
    CHECK (status IN ('invited', 'active', 'disabled', 'removed'));
ALTER TABLE users ADD COLUMN removed_at timestamptz;
DROP INDEX users_email_key;
CREATE UNIQUE INDEX users_email_key ON users (lower(email)) WHERE status <> 'removed';

-- A removed user may outlive the company and role they had.
ALTER TABLE users DROP CONSTRAINT users_check1;
ALTER TABLE users ADD CONSTRAINT users_staff_placed
    CHECK (kind <> 'staff' OR status = 'removed' OR (company_id IS NOT NULL AND role_id IS NOT NULL));
ALTER TABLE users DROP CONSTRAINT users_account_id_company_id_fkey;
ALTER TABLE users ADD CONSTRAINT users_company_fkey FOREIGN KEY (account_id, company_id)
    REFERENCES companies (account_id, id) ON DELETE SET NULL (company_id);
ALTER TABLE users DROP CONSTRAINT users_account_id_role_id_fkey;
ALTER TABLE users ADD CONSTRAINT users_role_fkey FOREIGN KEY (account_id, role_id)
    REFERENCES roles (account_id, id) ON DELETE SET NULL (role_id);

CREATE INDEX users_account_status ON users (account_id, status, lower(display_name), id);

-- Who created a link, so its page can say whom to ask for a new one.
ALTER TABLE one_time_tokens ADD COLUMN created_by bigint REFERENCES users (id) ON DELETE SET NULL;
