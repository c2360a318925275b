-- SPEC 18: what each key proved at registration. `attestation` is the verdict on its
-- attestation statement: 'none' (no statement, self attestation, or none was asked for),
-- 'untrusted' (a certificate chain to no root of `[webauthn] aal3_attestation_roots`) or
-- 'trusted' (a chain to one of them). `backup_eligible` is the authenticator's BE flag: a
-- credential that may be synced (a passkey) never counts for AAL3. Keys stored before this
-- migration were registered without attestation: 'none', AAL2 only; their BE flag is copied
-- from the stored credential.
ALTER TABLE security_keys ADD COLUMN attestation TEXT NOT NULL DEFAULT 'none'
    CHECK (attestation IN ('none', 'untrusted', 'trusted'));
ALTER TABLE security_keys ADD COLUMN backup_eligible BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE security_keys
    SET backup_eligible = COALESCE(credential::jsonb #>> '{cred,backup_eligible}', 'false') = 'true';
