-- Issue 11 (SPEC 17, 18): one-time tokens for email confirmation, sign-up in progress,
-- password reset and WebAuthn ceremonies. Only the SHA-256 of a token is stored; the payload
-- is sealed by the application when it holds personal data. Each row is used once (deleted
-- when taken) and purged once expired.
CREATE TABLE one_time_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    purpose TEXT NOT NULL,
    user_id BIGINT NULL REFERENCES users (id) ON DELETE CASCADE,
    payload TEXT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX one_time_tokens_expires_at ON one_time_tokens (expires_at);
CREATE INDEX one_time_tokens_user_id ON one_time_tokens (user_id);
