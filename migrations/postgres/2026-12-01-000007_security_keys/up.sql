-- SPEC 18: WebAuthn security keys and platform authenticators, several per user, each with
-- the name its user gave it. `credential` is the webauthn-rs credential as JSON (public key,
-- signature counter, backup state); `credential_id` is its id in base64url, unique across
-- users so an authenticator response names one key.
CREATE TABLE security_keys (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL CHECK (char_length(name) BETWEEN 1 AND 64),
    credential_id TEXT NOT NULL UNIQUE,
    credential TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP NULL
);
CREATE INDEX security_keys_user_id ON security_keys (user_id);
