-- The service-provider registry (SPEC 11). List-valued fields are JSON arrays: an SP is
-- always read and written whole.
CREATE TABLE service_providers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    issuer TEXT NOT NULL UNIQUE,
    friendly_name TEXT NOT NULL,
    agency TEXT,
    active BOOLEAN NOT NULL DEFAULT 1,
    acs_urls TEXT NOT NULL,
    logout_url TEXT,
    certs TEXT NOT NULL,
    block_encryption TEXT NOT NULL,
    signed_response_message_requested BOOLEAN NOT NULL DEFAULT 0,
    require_signed_requests BOOLEAN NOT NULL DEFAULT 0,
    ial SMALLINT NOT NULL,
    default_aal SMALLINT,
    attribute_bundle TEXT NOT NULL,
    email_nameid_format_allowed BOOLEAN NOT NULL DEFAULT 0,
    ialmax_allowed BOOLEAN NOT NULL DEFAULT 0,
    return_to_sp_url TEXT,
    failure_to_proof_url TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- One row; bumped by every registry write so that caches in other processes notice.
CREATE TABLE registry_revision (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    revision BIGINT NOT NULL
);
INSERT INTO registry_revision (id, revision) VALUES (1, 0);
