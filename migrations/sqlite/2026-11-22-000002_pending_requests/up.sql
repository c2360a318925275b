-- A verified AuthnRequest waiting for the user to sign in (SPEC 7, 13): kept in the database
-- so that any node can resume it. The browser holds a random 256-bit token; only its
-- SHA-256 is stored.
CREATE TABLE pending_requests (
    token_hash TEXT PRIMARY KEY NOT NULL,
    issuer TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX pending_requests_expires_at ON pending_requests (expires_at);
