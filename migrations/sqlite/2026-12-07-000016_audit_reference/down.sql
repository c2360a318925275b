DROP INDEX audit_events_reference;
ALTER TABLE audit_events DROP COLUMN reference;
