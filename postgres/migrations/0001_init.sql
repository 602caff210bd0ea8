-- Initial schema, the tables of the SQLite engine's 0001_init.sql. Times are
-- TIMESTAMPTZ, which keeps microseconds as the SQLite engine does; NULL stands
-- for the zero time ("not yet").

-- An identity column takes its values from a sequence that never goes back, so
-- the ID of a deleted user is never given to a new one: a token whose "sub"
-- names the old user must not become the new user's. GENERATED ALWAYS refuses an
-- ID chosen by the client.
CREATE TABLE users (
	id            BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name          TEXT        NOT NULL UNIQUE,
	email         TEXT        NOT NULL DEFAULT '',
	password_hash TEXT        NOT NULL,
	disabled      BOOLEAN     NOT NULL DEFAULT false,
	created_at    TIMESTAMPTZ NOT NULL,
	updated_at    TIMESTAMPTZ
);

CREATE TABLE sessions (
	id            TEXT        NOT NULL PRIMARY KEY,
	user_id       BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	client_id     TEXT        NOT NULL DEFAULT '',
	scope         TEXT        NOT NULL DEFAULT '',
	user_agent    TEXT        NOT NULL DEFAULT '',
	ip_address    TEXT        NOT NULL DEFAULT '',
	created_at    TIMESTAMPTZ NOT NULL,
	last_used_at  TIMESTAMPTZ,
	expires_at    TIMESTAMPTZ NOT NULL,
	revoked_at    TIMESTAMPTZ,
	revoke_reason TEXT        NOT NULL DEFAULT ''
);

CREATE INDEX sessions_user_id_idx ON sessions (user_id);

-- Only the SHA-256 hash of a refresh token is stored. One token per generation
-- and session makes a forked family impossible, whatever the code above does.
-- The UNIQUE index also serves the foreign key: session_id leads it.
CREATE TABLE refresh_tokens (
	hash       BYTEA       NOT NULL PRIMARY KEY,
	session_id TEXT        NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
	generation BIGINT      NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL,
	used_at    TIMESTAMPTZ,
	UNIQUE (session_id, generation)
);
CREATE INDEX refresh_tokens_expires_at_idx ON refresh_tokens (expires_at);

-- retired_at is NULL for the current key.
CREATE TABLE signing_keys (
	id         TEXT        NOT NULL PRIMARY KEY,
	algorithm  TEXT        NOT NULL,
	private    BYTEA       NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	retired_at TIMESTAMPTZ
);

CREATE TABLE secrets (
	name       TEXT        NOT NULL PRIMARY KEY,
	value      BYTEA       NOT NULL,
	created_at TIMESTAMPTZ NOT NULL
);
