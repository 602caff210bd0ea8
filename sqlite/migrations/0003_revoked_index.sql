-- Instances that refuse the access tokens of revoked sessions at once ask every
-- half second for the sessions revoked since a recent instant. A partial index
-- holds only revoked sessions, so it costs sign-ins and refreshes nothing, and
-- the query reads a handful of index entries however large the table grows.
CREATE INDEX sessions_revoked_at_idx ON sessions (revoked_at)
	WHERE revoked_at IS NOT NULL;
