ALTER TABLE service_providers DROP COLUMN version;
