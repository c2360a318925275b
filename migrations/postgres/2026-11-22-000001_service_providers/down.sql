DROP TABLE registry_revision;
DROP TABLE service_providers;
