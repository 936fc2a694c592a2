-- Every single-use link is a row of one_time_tokens, so one code path issues, checks, uses and
-- revokes them all: a confirmation link belongs to a sign-up request, every other link to a user.
ALTER TABLE one_time_tokens ALTER COLUMN user_id DROP NOT NULL;
ALTER TABLE one_time_tokens ADD COLUMN sign_up_request_id bigint REFERENCES sign_up_requests (id) ON DELETE CASCADE;
ALTER TABLE one_time_tokens ADD CONSTRAINT one_time_tokens_one_holder
    CHECK ((user_id IS NULL) <> (sign_up_request_id IS NULL));
CREATE INDEX one_time_tokens_sign_up ON one_time_tokens (sign_up_request_id) WHERE sign_up_request_id IS NOT NULL;

-- Sign-ups waiting for confirmation keep their links, their expiry and whether they were used.
INSERT INTO one_time_tokens (token_hash, purpose, sign_up_request_id, created_at, expires_at, used_at)
SELECT token_hash, 'email_confirmation', id, created_at, expires_at, used_at FROM sign_up_requests;

DROP INDEX sign_up_requests_expiry;
ALTER TABLE sign_up_requests DROP COLUMN token_hash, DROP COLUMN expires_at, DROP COLUMN used_at;
