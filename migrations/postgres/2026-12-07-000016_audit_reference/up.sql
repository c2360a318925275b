-- A short random reference for a refused SAML request (SPEC 15): the error page shows it,
-- support finds the event with `saml-idp events --id REFERENCE`.
ALTER TABLE audit_events ADD COLUMN reference TEXT;
CREATE INDEX audit_events_reference ON audit_events (reference);
