-- The replay cache (SPEC 9) keyed by its primary key alone: a table WITHOUT ROWID stores each
-- row once, in the (issuer, request_id) B-tree, where a rowid table wrote the row and the
-- key's index separately. One fewer B-tree written by every remote logout (issue 23).
CREATE TABLE seen_requests_keyed (
    issuer TEXT NOT NULL,
    request_id TEXT NOT NULL,
    seen_at TIMESTAMP NOT NULL,
    PRIMARY KEY (issuer, request_id)
) WITHOUT ROWID;
INSERT INTO seen_requests_keyed (issuer, request_id, seen_at)
    SELECT issuer, request_id, seen_at FROM seen_requests;
DROP TABLE seen_requests;
ALTER TABLE seen_requests_keyed RENAME TO seen_requests;
CREATE INDEX seen_requests_seen_at ON seen_requests (seen_at);
