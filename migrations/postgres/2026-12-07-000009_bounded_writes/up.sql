-- Bounded writes (SPEC 7). A replayed AuthnRequest (same issuer and ID) reuses its pending
-- row: the request's ID is stored, and (issuer, request_id) is unique. Rows from before
-- this migration get their token hash as ID, which no request has.
ALTER TABLE pending_requests ADD COLUMN request_id TEXT NOT NULL DEFAULT '';
UPDATE pending_requests SET request_id = token_hash;
CREATE UNIQUE INDEX pending_requests_issuer_request ON pending_requests (issuer, request_id);
-- Refused requests are audited in aggregate: one row for the same client, code and SP
-- within a minute, with how many there were.
ALTER TABLE audit_events ADD COLUMN count INTEGER NOT NULL DEFAULT 1;
