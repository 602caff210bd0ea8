package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gatepass/gatepass"
)

// CreateRefreshToken inserts t. Returns ENOTFOUND if its session does not exist.
func (tx *tx) CreateRefreshToken(ctx context.Context, t *gatepass.RefreshToken) error {
	_, err := tx.execContext(ctx, `
		INSERT INTO refresh_tokens
			(hash, session_id, generation, created_at, expires_at, used_at)
		VALUES (?, ?, ?, ?, ?, ?)`,
		t.Hash, t.SessionID, t.Generation,
		timeArg(t.CreatedAt), timeArg(t.ExpiresAt), timeArg(t.UsedAt))
	if isDuplicate(err) {
		return gatepass.Errorf(gatepass.ECONFLICT, "refresh token already exists")
	} else if isMissingParent(err) {
		return gatepass.Errorf(gatepass.ENOTFOUND, "session not found")
	} else if err != nil {
		return fmt.Errorf("insert refresh token: %w", err)
	}
	return nil
}

// FindRefreshToken returns the token whose SHA-256 hash is hash.
func (tx *tx) FindRefreshToken(ctx context.Context,
	hash []byte) (*gatepass.RefreshToken, error) {
	var t gatepass.RefreshToken
	err := tx.queryRowContext(ctx, `
		SELECT hash, session_id, generation, created_at, expires_at, used_at
		FROM refresh_tokens
		WHERE hash = ?`,
		hash,
	).Scan(&t.Hash, &t.SessionID, &t.Generation,
		timeColumn{&t.CreatedAt}, timeColumn{&t.ExpiresAt}, timeColumn{&t.UsedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, gatepass.Errorf(gatepass.ENOTFOUND, "refresh token not found")
	} else if err != nil {
		return nil, fmt.Errorf("query refresh token: %w", err)
	}
	return &t, nil
}

// MarkRefreshTokenUsed sets UsedAt on an unused token. The condition on used_at
// makes the check and the write one statement, so it holds even without the
// transaction's write lock. Returns EINVALID for a zero at, which would leave the
// token unused.
func (tx *tx) MarkRefreshTokenUsed(ctx context.Context, hash []byte, at time.Time) error {
	if err := requireTime(at, "use"); err != nil {
		return err
	}

	res, err := tx.execContext(ctx, `
		UPDATE refresh_tokens SET used_at = ?
		WHERE hash = ? AND used_at IS NULL`,
		timeArg(at), hash)
	if err != nil {
		return fmt.Errorf("mark refresh token used: %w", err)
	}
	if n, err := rowsAffected(res); err != nil || n == 1 {
		return err
	}

	// Nothing changed: the token is missing or already used.
	if _, err := tx.FindRefreshToken(ctx, hash); err != nil {
		return err
	}
	return gatepass.Errorf(gatepass.ECONFLICT, "refresh token already used")
}

// RotateRefreshToken marks the token used, stores next and touches the session.
// The condition on used_at makes the check and the mark one statement, as in
// MarkRefreshTokenUsed.
func (tx *tx) RotateRefreshToken(ctx context.Context, hash []byte,
	next *gatepass.RefreshToken) error {
	at := next.CreatedAt
	if err := requireTime(at, "use"); err != nil {
		return err
	}

	res, err := tx.execContext(ctx, `
		UPDATE refresh_tokens SET used_at = ?
		WHERE hash = ? AND used_at IS NULL AND session_id = ?`,
		timeArg(at), hash, next.SessionID)
	if err != nil {
		return fmt.Errorf("mark refresh token used: %w", err)
	}
	if n, err := rowsAffected(res); err != nil {
		return err
	} else if n == 0 {
		return tx.whyNotRotated(ctx, hash)
	}
	if err := tx.CreateRefreshToken(ctx, next); err != nil {
		return err
	}
	return tx.UpdateSession(ctx, next.SessionID, gatepass.SessionUpdate{LastUsedAt: &at})
}

// whyNotRotated explains why a token could not be marked used: it is missing,
// already used, or belongs to another session than its successor.
func (tx *tx) whyNotRotated(ctx context.Context, hash []byte) error {
	t, err := tx.FindRefreshToken(ctx, hash)
	if err != nil {
		return err
	} else if !t.UsedAt.IsZero() {
		return gatepass.Errorf(gatepass.ECONFLICT, "refresh token already used")
	}
	return gatepass.Errorf(gatepass.EINVALID, "successor belongs to another session")
}
