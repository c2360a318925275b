-- SQLite only (a table WITHOUT ROWID): a PostgreSQL table has no rowid to drop. Kept so that
-- both backends list the same migrations.
SELECT 1;
