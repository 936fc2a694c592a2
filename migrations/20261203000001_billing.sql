-- Billing (SPEC 2.2): the plan the operator set for each account, and the usage it is measured
-- against. A NULL limit is unlimited. Usage lives in counters changed in the same transaction as
-- what they count, so reading it never scans the counted tables.
ALTER TABLE accounts
    ADD COLUMN plan_name             text NOT NULL DEFAULT 'Standard' CHECK (length(plan_name) BETWEEN 1 AND 100),
    ADD COLUMN customer_limit        bigint CHECK (customer_limit >= 0),
    ADD COLUMN staff_user_limit      bigint CHECK (staff_user_limit >= 0),
    ADD COLUMN customer_user_limit   bigint CHECK (customer_user_limit >= 0),
    ADD COLUMN email_month_limit     bigint CHECK (email_month_limit >= 0),
    -- Staff users in any state but removed; customer users in any state.
    ADD COLUMN staff_user_count      bigint NOT NULL DEFAULT 0,
    ADD COLUMN customer_user_count   bigint NOT NULL DEFAULT 0,
    -- E-mails queued in the calendar month (UTC) that starts on email_month.
    ADD COLUMN email_month           date,
    ADD COLUMN email_month_count     bigint NOT NULL DEFAULT 0,
    -- Who hears about usage, and whether they are told at 80% and 100% of a limit.
    ADD COLUMN billing_contact_email text CHECK (length(billing_contact_email) BETWEEN 3 AND 254),
    ADD COLUMN usage_warnings        boolean NOT NULL DEFAULT true,
    ADD COLUMN billing_version       integer NOT NULL DEFAULT 1;

UPDATE accounts a SET
    staff_user_count = (SELECT count(*) FROM users u WHERE u.account_id = a.id AND u.kind = 'staff' AND u.status <> 'removed'),
    customer_user_count = (SELECT count(*) FROM users u WHERE u.account_id = a.id AND u.kind = 'customer');

-- Per-day counts for the 30-day charts of Billing and the Overview.
CREATE TABLE account_daily_usage (
    account_id        bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    day               date NOT NULL,
    emails            integer NOT NULL DEFAULT 0,
    customers_created integer NOT NULL DEFAULT 0,
    sign_ins          integer NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, day)
);

-- A usage warning mailed to the billing contact: once per limit, level and month.
CREATE TABLE usage_warnings_sent (
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    limit_name text NOT NULL CHECK (limit_name IN ('customers', 'staff_users', 'customer_users', 'emails_per_month')),
    percent    integer NOT NULL CHECK (percent IN (80, 100)),
    month      date NOT NULL,
    sent_at    timestamptz NOT NULL,
    PRIMARY KEY (account_id, limit_name, percent, month)
);

-- Users are created, removed, moved and deleted by many changes (invitations, sign-ups, a
-- registered person added to a customer, cascades from a deleted customer); one trigger keeps
-- both user counters right for all of them and refuses an addition the plan has no room for.
-- The UPDATE of the account row serialises concurrent additions, so the last free place is
-- taken once. SQLSTATE RL001 carries "limit allowed used" for the server to word.
CREATE FUNCTION users_plan_usage() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_account bigint;
    new_account bigint;
    old_staff   integer := 0;
    old_cust    integer := 0;
    new_staff   integer := 0;
    new_cust    integer := 0;
    staff_now   bigint;
    cust_now    bigint;
    staff_max   bigint;
    cust_max    bigint;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        old_account := OLD.account_id;
        old_staff := (OLD.kind = 'staff' AND OLD.status <> 'removed')::integer;
        old_cust := (OLD.kind = 'customer')::integer;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        new_account := NEW.account_id;
        new_staff := (NEW.kind = 'staff' AND NEW.status <> 'removed')::integer;
        new_cust := (NEW.kind = 'customer')::integer;
    END IF;
    IF old_account IS NOT DISTINCT FROM new_account THEN
        new_staff := new_staff - old_staff;
        new_cust := new_cust - old_cust;
        old_staff := 0;
        old_cust := 0;
    END IF;
    IF old_account IS NOT NULL AND (old_staff <> 0 OR old_cust <> 0) THEN
        UPDATE accounts SET staff_user_count = staff_user_count - old_staff,
                            customer_user_count = customer_user_count - old_cust
         WHERE id = old_account;
    END IF;
    IF new_account IS NOT NULL AND (new_staff <> 0 OR new_cust <> 0) THEN
        UPDATE accounts SET staff_user_count = staff_user_count + new_staff,
                            customer_user_count = customer_user_count + new_cust
         WHERE id = new_account
        RETURNING staff_user_count, customer_user_count, staff_user_limit, customer_user_limit
             INTO staff_now, cust_now, staff_max, cust_max;
        IF new_staff > 0 AND staff_now > staff_max THEN
            RAISE EXCEPTION USING ERRCODE = 'RL001', MESSAGE = format('staff_users %s %s', staff_max, staff_now - new_staff);
        END IF;
        IF new_cust > 0 AND cust_now > cust_max THEN
            RAISE EXCEPTION USING ERRCODE = 'RL001', MESSAGE = format('customer_users %s %s', cust_max, cust_now - new_cust);
        END IF;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER users_plan_usage
    AFTER INSERT OR DELETE OR UPDATE OF kind, status, account_id ON users
    FOR EACH ROW EXECUTE FUNCTION users_plan_usage();
