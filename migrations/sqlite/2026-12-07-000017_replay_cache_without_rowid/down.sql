CREATE TABLE seen_requests_rowid (
    issuer TEXT NOT NULL,
    request_id TEXT NOT NULL,
    seen_at TIMESTAMP NOT NULL,
    PRIMARY KEY (issuer, request_id)
);
INSERT INTO seen_requests_rowid (issuer, request_id, seen_at)
    SELECT issuer, request_id, seen_at FROM seen_requests;
DROP TABLE seen_requests;
ALTER TABLE seen_requests_rowid RENAME TO seen_requests;
CREATE INDEX seen_requests_seen_at ON seen_requests (seen_at);
