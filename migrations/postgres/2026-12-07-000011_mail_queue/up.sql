-- Issue 20 (SPEC 17): the durable mail queue. One row per message and recipient, drained by
-- a worker on every node. `recipient_key` is the address's keyed lookup hash (as in
-- user_emails), never the address; the address, the message and its locale are sealed in
-- `payload` (bound to `id`) and dropped once sent. A sent row is kept only for the
-- per-address caps (a day), then purged. `lease_until`/`lease_owner` make a claim one
-- worker's alone.
CREATE TABLE mail_queue (
    id TEXT PRIMARY KEY NOT NULL,
    recipient_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_until TIMESTAMP NULL,
    lease_owner TEXT NULL,
    sent_at TIMESTAMP NULL
);
CREATE INDEX mail_queue_due ON mail_queue (next_attempt_at) WHERE sent_at IS NULL;
CREATE INDEX mail_queue_recipient ON mail_queue (recipient_key, created_at);
CREATE INDEX mail_queue_lease_owner ON mail_queue (lease_owner);
