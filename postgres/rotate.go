package postgres

import (
	"context"

	"github.com/gatepass/gatepass"
)

// rotateCTE marks the token $2 of session $3 used at $1 and inserts its
// successor; the statements built on it go on to touch the session. The
// successor is inserted only for a token the statement marked, and the session
// touched only for an inserted successor, so a rotation is all or nothing.
const rotateCTE = `
	WITH used AS (
		UPDATE refresh_tokens SET used_at = $1
		WHERE hash = $2 AND used_at IS NULL AND session_id = $3
		RETURNING session_id
	), successor AS (
		INSERT INTO refresh_tokens
			(hash, session_id, generation, created_at, expires_at, used_at)
		SELECT $4::bytea, session_id, $5::bigint, $1, $6::timestamptz, $7::timestamptz
		FROM used
		RETURNING session_id
	)`

// rotateSQL is a rotation that reports through its row count whether it
// happened.
const rotateSQL = rotateCTE + `
	UPDATE sessions SET last_used_at = $1
	WHERE id IN (SELECT session_id FROM successor)`

// rotateOrFailSQL is a rotation that fails when it changes nothing, so that a
// rotation nobody waits for still cannot go unnoticed: its error aborts the
// transaction, and the COMMIT sent behind it rolls back instead. SQL has no
// statement that raises an error, so the division by the count of touched
// sessions does: it divides by zero exactly when the rotation did not happen.
const rotateOrFailSQL = rotateCTE + `, touched AS (
		UPDATE sessions SET last_used_at = $1
		WHERE id IN (SELECT session_id FROM successor)
		RETURNING id
	)
	SELECT 1 / count(*) FROM touched`

// RotateRefreshToken marks the token used, stores next and touches the session
// in one statement, so one round trip instead of three. Of two transactions
// rotating one token, the second waits for the first's row lock and then marks
// nothing.
//
// When the transaction has locked the token's session with LockRefreshToken
// and found the token unused, nothing else can use it first, and nobody needs
// the statement's answer: it is held back and goes out with the COMMIT, which
// saves the rotation's second round trip. Should it fail all the same, the
// commit fails with its error and nothing of the transaction is kept.
func (tx *tx) RotateRefreshToken(ctx context.Context, hash []byte,
	next *gatepass.RefreshToken) error {
	if err := requireTime(next.CreatedAt, "use"); err != nil {
		return err
	}
	args := []any{timeArg(next.CreatedAt), hash, next.SessionID, next.Hash,
		next.Generation, timeArg(next.ExpiresAt), timeArg(next.UsedAt)}

	if tx.locked.unused(hash, next.SessionID) {
		tx.locked = lockedToken{}
		tx.tx.holdChecked(rotateOrFailSQL, args, rotateError)
		return nil
	}

	n, err := tx.exec(ctx, rotateSQL, args...)
	if err != nil {
		return rotateError(err)
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

// rotateError returns the error of a failed rotation statement. A held
// rotation that changed nothing cannot be explained: its transaction is
// already aborted, so it is reported as the conflict it almost surely is.
func rotateError(err error) error {
	switch {
	case isDuplicate(err):
		return gatepass.Errorf(gatepass.ECONFLICT, "refresh token already exists")
	case pgCode(err) == codeDivisionByZero:
		return gatepass.Errorf(gatepass.ECONFLICT,
			"refresh token already used, gone, or of another session")
	}
	return formatError("rotate refresh token", err)
}

// lockedToken is the refresh token a transaction read with its session locked.
type lockedToken struct {
	hash      []byte
	sessionID string
	used      bool
}

// unused reports whether the token hash of session sessionID was read unused
// with its session locked.
func (l lockedToken) unused(hash []byte, sessionID string) bool {
	return l.hash != nil && !l.used && l.sessionID == sessionID &&
		string(l.hash) == string(hash)
}
