-- Accounts, browser sessions, agency identities, consent and audit events (SPEC 7, 12, 13).
-- PII and TOTP secrets are sealed with AES-256-GCM by the application ("v1:…" text);
-- emails are found through a keyed hash, never stored in clear.
CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    public_id TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    totp_secret TEXT,
    totp_last_step BIGINT,
    locale TEXT NOT NULL,
    status TEXT NOT NULL,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until TIMESTAMP,
    verified_profile TEXT,
    verified_at TIMESTAMP,
    piv_record TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE user_emails (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email_lookup TEXT NOT NULL UNIQUE,
    email_sealed TEXT NOT NULL,
    for_sign_in BOOLEAN NOT NULL,
    confirmed_at TIMESTAMP NOT NULL
);
CREATE INDEX user_emails_user_id ON user_emails (user_id);

CREATE TABLE backup_codes (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX backup_codes_user_id ON backup_codes (user_id);

-- A browser session: the cookie holds a random 256-bit token, this table its SHA-256.
CREATE TABLE browser_sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id BIGINT REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    password_at TIMESTAMP,
    mfa_at TIMESTAMP,
    mfa_method TEXT,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX browser_sessions_user_id ON browser_sessions (user_id);

-- "Remember this browser": satisfies the default AAL for 30 days.
CREATE TABLE remembered_browsers (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at TIMESTAMP NOT NULL
);

-- One persistent UUID per (user, agency): the NameID every SP of the agency sees.
CREATE TABLE agency_identities (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    agency_key TEXT NOT NULL,
    uuid TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (user_id, agency_key)
);

-- What a user consented to share with one SP, and when they last authenticated to it.
CREATE TABLE sp_consents (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    issuer TEXT NOT NULL,
    attributes TEXT NOT NULL,
    consented_at TIMESTAMP NOT NULL,
    last_authenticated_at TIMESTAMP,
    PRIMARY KEY (user_id, issuer)
);

-- Audit trail without PII: event name, SP, the user's public id, outcome, error codes.
CREATE TABLE audit_events (
    id BIGSERIAL PRIMARY KEY,
    event TEXT NOT NULL,
    issuer TEXT,
    user_public_id TEXT,
    success BOOLEAN NOT NULL,
    detail TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX audit_events_created_at ON audit_events (created_at);

-- Fixed-window counters for per-IP rate limits (shared by every node).
CREATE TABLE rate_limits (
    bucket TEXT PRIMARY KEY NOT NULL,
    window_start TIMESTAMP NOT NULL,
    hits INTEGER NOT NULL
);
