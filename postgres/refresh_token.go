package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatepass/gatepass"
)

const refreshTokenColumns = `hash, session_id, generation, created_at, expires_at, used_at`

// refreshTokenFields are the scan destinations of refreshTokenColumns.
func refreshTokenFields(t *gatepass.RefreshToken) []any {
	return []any{&t.Hash, &t.SessionID, &t.Generation,
		timeColumn{&t.CreatedAt}, timeColumn{&t.ExpiresAt}, timeColumn{&t.UsedAt}}
}

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
		SELECT `+refreshTokenColumns+`
		FROM refresh_tokens
		WHERE hash = $1`,
		hash,
	).Scan(refreshTokenFields(&t)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, gatepass.Errorf(gatepass.ENOTFOUND, "refresh token not found")
	} else if err != nil {
		return nil, formatError("query refresh token", err)
	}
	return &t, nil
}

// findRefreshableSQL reads a token with its session and user, built once rather
// than on every rotation.
var findRefreshableSQL = `
	SELECT ` + prefixed("t", refreshTokenColumns) + `, ` + prefixed("s", sessionColumns) + `,
		` + prefixed("u", userColumns) + `
	FROM refresh_tokens t
	JOIN sessions s ON s.id = t.session_id
	JOIN users u ON u.id = s.user_id
	WHERE t.hash = $1`

// LockRefreshToken finds the token whose SHA-256 hash is hash and locks its
// session. The lock and the read go out in one batch but are two statements:
// under READ COMMITTED each statement reads the rows committed when it starts,
// so the read, which starts once the lock is held, sees a rotation that
// committed while the lock was awaited. A join that locked the session would
// return the token as it was before the wait.
func (tx *tx) LockRefreshToken(ctx context.Context, hash []byte) (*gatepass.RefreshToken,
	*gatepass.Session, *gatepass.User, error) {
	tx.tx.hold("lock session", `
		SELECT FROM sessions
		WHERE id = (SELECT session_id FROM refresh_tokens WHERE hash = $1)
		FOR UPDATE`,
		[]any{hash})

	var t gatepass.RefreshToken
	var s gatepass.Session
	var u gatepass.User
	dest := append(append(refreshTokenFields(&t), sessionFields(&s)...), userFields(&u)...)
	err := tx.tx.QueryRow(ctx, findRefreshableSQL, hash).Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, nil, gatepass.Errorf(gatepass.ENOTFOUND, "refresh token not found")
	} else if err != nil {
		return nil, nil, nil, formatError("lock refresh token", err)
	}
	tx.locked = lockedToken{hash: t.Hash, sessionID: t.SessionID, used: !t.UsedAt.IsZero()}
	return &t, &s, &u, nil
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
