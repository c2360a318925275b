-- The roles of the SP administrator console (SPEC 19): `admin` (every SP, agency '') and
-- `agency-admin` of one agency. An account holds any number of roles, each once.
CREATE TABLE user_roles (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    agency TEXT NOT NULL DEFAULT '',
    granted_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, role, agency)
);
