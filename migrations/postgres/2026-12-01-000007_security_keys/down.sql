DROP TABLE security_keys;
