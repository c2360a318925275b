-- The SAML binding a message came by (SPEC 19: the console lists an SP's refused requests
-- with theirs): redirect, post or back-channel; empty for events that are not SAML messages.
ALTER TABLE audit_events ADD COLUMN binding TEXT;
