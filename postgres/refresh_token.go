package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatepass/gatepass"
)

// CreateRefreshToken inserts t. Returns ENOTFOUND if its session does not exist.
func (tx *tx) CreateRefreshToken(ctx context.Context, t *gatepass.RefreshToken) error {
	_, err := tx.tx.Exec(ctx, `
		INSERT INTO refresh_tokens
			(hash, session_id, generation, created_at, expires_at, used_at)
		VALUES ($1, $2, $3, $4, $5, $6)`,
		t.Hash, t.SessionID, t.Generation,
		timeArg(t.CreatedAt), timeArg(t.ExpiresAt), timeArg(t.UsedAt))
	if isDuplicate(err) {
		return gatepass.Errorf(gatepass.ECONFLICT, "refresh token already exists")
	} else if isMissingParent(err) {
		return gatepass.Errorf(gatepass.ENOTFOUND, "session not found")
	} else if err != nil {
		return formatError("insert refresh token", err)
	}
	return nil
}

// FindRefreshToken returns the token whose SHA-256 hash is hash.
func (tx *tx) FindRefreshToken(ctx context.Context,
	hash []byte) (*gatepass.RefreshToken, error) {
	var t gatepass.RefreshToken
	err := tx.tx.QueryRow(ctx, `
		SELECT hash, session_id, generation, created_at, expires_at, used_at
		FROM refresh_tokens
		WHERE hash = $1`,
		hash,
	).Scan(&t.Hash, &t.SessionID, &t.Generation,
		timeColumn{&t.CreatedAt}, timeColumn{&t.ExpiresAt}, timeColumn{&t.UsedAt})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, gatepass.Errorf(gatepass.ENOTFOUND, "refresh token not found")
	} else if err != nil {
		return nil, formatError("query refresh token", err)
	}
	return &t, nil
}

// MarkRefreshTokenUsed sets UsedAt on an unused token. The condition on used_at
// makes the check and the write one statement: of two transactions marking the
// same token, on any instances, the second waits for the first's row lock, then
// finds used_at set and changes nothing. Returns EINVALID for a zero at, which
// would leave the token unused.
func (tx *tx) MarkRefreshTokenUsed(ctx context.Context, hash []byte, at time.Time) error {
	if err := requireTime(at, "use"); err != nil {
		return err
	}

	n, err := tx.exec(ctx, `
		UPDATE refresh_tokens SET used_at = $1
		WHERE hash = $2 AND used_at IS NULL`,
		timeArg(at), hash)
	if err != nil {
		return formatError("mark refresh token used", err)
	} else if n == 1 {
		return nil
	}

	// Nothing changed: the token is missing or already used. Under READ
	// COMMITTED this lookup sees the other transaction's committed mark.
	if _, err := tx.FindRefreshToken(ctx, hash); err != nil {
		return err
	}
	return gatepass.Errorf(gatepass.ECONFLICT, "refresh token already used")
}

// RotateRefreshToken marks the token used, stores next and touches the session
// in one statement, so one round trip instead of three, and all or nothing: the
// successor is inserted only for a token this statement marked, and the session
// touched only for an inserted successor. Of two transactions rotating one
// token, the second waits for the first's row lock and then marks nothing.
func (tx *tx) RotateRefreshToken(ctx context.Context, hash []byte,
	next *gatepass.RefreshToken) error {
	if err := requireTime(next.CreatedAt, "use"); err != nil {
		return err
	}

	n, err := tx.exec(ctx, `
		WITH used AS (
			UPDATE refresh_tokens SET used_at = $1
			WHERE hash = $2 AND used_at IS NULL AND session_id = $3
			RETURNING session_id
		), successor AS (
			INSERT INTO refresh_tokens
				(hash, session_id, generation, created_at, expires_at, used_at)
			SELECT $4::bytea, session_id, $5::bigint, $1, $6::timestamptz,
				$7::timestamptz
			FROM used
			RETURNING session_id
		)
		UPDATE sessions SET last_used_at = $1
		WHERE id IN (SELECT session_id FROM successor)`,
		timeArg(next.CreatedAt), hash, next.SessionID, next.Hash, next.Generation,
		timeArg(next.ExpiresAt), timeArg(next.UsedAt))
	if isDuplicate(err) {
		return gatepass.Errorf(gatepass.ECONFLICT, "refresh token already exists")
	} else if err != nil {
		return formatError("rotate refresh token", err)
	} else if n == 1 {
		return nil
	}

	// Nothing changed: explain why.
	t, err := tx.FindRefreshToken(ctx, hash)
	if err != nil {
		return err
	} else if !t.UsedAt.IsZero() {
		return gatepass.Errorf(gatepass.ECONFLICT, "refresh token already used")
	}
	return gatepass.Errorf(gatepass.EINVALID, "successor belongs to another session")
}
