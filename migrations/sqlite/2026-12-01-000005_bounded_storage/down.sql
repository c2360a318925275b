DROP INDEX rate_limits_window_start;
DROP INDEX remembered_browsers_expires_at;
DROP INDEX browser_sessions_last_seen_at;
DROP INDEX browser_sessions_expires_at;
ALTER TABLE browser_sessions DROP COLUMN failed_attempts;
