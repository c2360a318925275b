ALTER TABLE security_keys DROP COLUMN backup_eligible;
ALTER TABLE security_keys DROP COLUMN attestation;
