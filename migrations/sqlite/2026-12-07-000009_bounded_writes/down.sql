ALTER TABLE audit_events DROP COLUMN count;
DROP INDEX pending_requests_issuer_request;
ALTER TABLE pending_requests DROP COLUMN request_id;
