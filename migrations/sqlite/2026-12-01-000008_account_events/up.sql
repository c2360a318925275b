-- Issue 11 (SPEC 17): the account page lists a user's own recent audit events.
CREATE INDEX audit_events_user_public_id ON audit_events (user_public_id, id);
