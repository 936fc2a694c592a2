-- A customer user who registered on their own before a business added them as its customer
-- (SPEC 4.2, seed 000's "Add by account"). Removing that customer gives them back their own
-- free account instead of deleting their login.
ALTER TABLE users ADD COLUMN joined_by_account boolean NOT NULL DEFAULT false;
-- Who joined that way so far: a person older than the customer they belong to was registered
-- before it existed.
UPDATE users u SET joined_by_account = true
  FROM customers c
 WHERE u.kind = 'customer' AND c.account_id = u.account_id AND c.id = u.customer_id AND u.created_at < c.created_at;
