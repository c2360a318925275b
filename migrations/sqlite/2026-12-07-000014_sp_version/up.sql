-- Every write to a service provider bumps its version (SPEC 19): the console and the API
-- refuse an edit made from a version that is no longer the stored one ("changed since you
-- opened it"; the API's ETag / If-Match).
ALTER TABLE service_providers ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
