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
