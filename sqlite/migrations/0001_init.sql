-- Initial schema. Times are INTEGER Unix microseconds in UTC; NULL stands for the
-- zero time ("not yet"). Every table is STRICT, so a value of the wrong type is
-- refused instead of stored.

-- AUTOINCREMENT keeps the ID of a deleted user from ever being given to a new
-- one: a token whose "sub" names the old user must not become the new user's.
CREATE TABLE users (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	name          TEXT    NOT NULL UNIQUE,
	email         TEXT    NOT NULL DEFAULT '',
	password_hash TEXT    NOT NULL,
	disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER
) STRICT;

CREATE TABLE sessions (
	id            TEXT    NOT NULL PRIMARY KEY,
	user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	client_id     TEXT    NOT NULL DEFAULT '',
	scope         TEXT    NOT NULL DEFAULT '',
	user_agent    TEXT    NOT NULL DEFAULT '',
	ip_address    TEXT    NOT NULL DEFAULT '',
	created_at    INTEGER NOT NULL,
	last_used_at  INTEGER,
	expires_at    INTEGER NOT NULL,
	revoked_at    INTEGER,
	revoke_reason TEXT    NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX sessions_user_id_idx ON sessions (user_id);

-- Only the SHA-256 hash of a refresh token is stored. One token per generation
-- and session makes a forked family impossible, whatever the code above does.
CREATE TABLE refresh_tokens (
	hash       BLOB    NOT NULL PRIMARY KEY,
	session_id TEXT    NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
	generation INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	used_at    INTEGER,
	UNIQUE (session_id, generation)
) STRICT;
CREATE INDEX refresh_tokens_expires_at_idx ON refresh_tokens (expires_at);

-- retired_at is NULL for the current key.
CREATE TABLE signing_keys (
	id         TEXT    NOT NULL PRIMARY KEY,
	algorithm  TEXT    NOT NULL,
	private    BLOB    NOT NULL,
	created_at INTEGER NOT NULL,
	retired_at INTEGER
) STRICT;

CREATE TABLE secrets (
	name       TEXT    NOT NULL PRIMARY KEY,
	value      BLOB    NOT NULL,
	created_at INTEGER NOT NULL
) STRICT;
