-- Request IDs already acted on (remote logout, SPEC 9): a captured request cannot be
-- replayed, on any node.
CREATE TABLE seen_requests (
    issuer TEXT NOT NULL,
    request_id TEXT NOT NULL,
    seen_at TIMESTAMP NOT NULL,
    PRIMARY KEY (issuer, request_id)
);
CREATE INDEX seen_requests_seen_at ON seen_requests (seen_at);
