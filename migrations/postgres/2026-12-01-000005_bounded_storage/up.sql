-- Issue 9 (SPEC 7): failures counted per browser session as well as per account, and the
-- indexes the periodic purge of expired rows uses.
ALTER TABLE browser_sessions ADD COLUMN failed_attempts INTEGER NOT NULL DEFAULT 0;
CREATE INDEX browser_sessions_expires_at ON browser_sessions (expires_at);
CREATE INDEX browser_sessions_last_seen_at ON browser_sessions (last_seen_at);
CREATE INDEX remembered_browsers_expires_at ON remembered_browsers (expires_at);
CREATE INDEX rate_limits_window_start ON rate_limits (window_start);
