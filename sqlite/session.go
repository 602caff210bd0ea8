package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatepass/gatepass"
)

const sessionColumns = `id, user_id, client_id, scope, user_agent, ip_address,
	created_at, last_used_at, expires_at, revoked_at, revoke_reason`

// sessionFields returns the scan destinations of sessionColumns, in order.
func sessionFields(s *gatepass.Session) []any {
	return []any{&s.ID, &s.UserID, &s.ClientID, &s.Scope, &s.UserAgent, &s.IPAddress,
		timeColumn{&s.CreatedAt}, timeColumn{&s.LastUsedAt}, timeColumn{&s.ExpiresAt},
		timeColumn{&s.RevokedAt}, &s.RevokeReason}
}

// CreateSession inserts s. Returns ENOTFOUND if its user does not exist.
func (tx *tx) CreateSession(ctx context.Context, s *gatepass.Session) error {
	_, err := tx.execContext(ctx, `
		INSERT INTO sessions (`+sessionColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.UserID, s.ClientID, s.Scope, s.UserAgent, s.IPAddress,
		timeArg(s.CreatedAt), timeArg(s.LastUsedAt), timeArg(s.ExpiresAt),
		timeArg(s.RevokedAt), s.RevokeReason)
	if isDuplicate(err) {
		return gatepass.Errorf(gatepass.ECONFLICT, "session already exists")
	} else if isMissingParent(err) {
		return gatepass.Errorf(gatepass.ENOTFOUND, "user not found")
	} else if err != nil {
		return fmt.Errorf("insert session: %w", err)
	}
	return nil
}

// FindSessionByID returns the session with id.
func (tx *tx) FindSessionByID(ctx context.Context, id string) (*gatepass.Session, error) {
	sessions, err := tx.findSessions(ctx, []string{"id = ?"}, []any{id})
	if err != nil {
		return nil, err
	} else if len(sessions) == 0 {
		return nil, gatepass.Errorf(gatepass.ENOTFOUND, "session not found")
	}
	return sessions[0], nil
}

// LockSession is FindSessionByID: an Update transaction began with BEGIN
// IMMEDIATE and so already holds the database's only write lock, which keeps
// every other writer, rotations of this session included, out until it ends.
func (tx *tx) LockSession(ctx context.Context, id string) (*gatepass.Session, error) {
	return tx.FindSessionByID(ctx, id)
}

// LockRefreshToken finds the token whose SHA-256 hash is hash, with its
// session and user. As in LockSession, the write lock is already held, so no
// rotation can commit between the reads.
func (tx *tx) LockRefreshToken(ctx context.Context, hash []byte) (*gatepass.RefreshToken,
	*gatepass.Session, *gatepass.User, error) {
	t, err := tx.FindRefreshToken(ctx, hash)
	if err != nil {
		return nil, nil, nil, err
	}
	s, err := tx.LockSession(ctx, t.SessionID)
	if err != nil {
		return nil, nil, nil, err
	}
	u, err := tx.FindUserByID(ctx, s.UserID)
	if err != nil {
		return nil, nil, nil, err
	}
	return t, s, u, nil
}

// FindSessions lists the sessions filter selects, newest first.
func (tx *tx) FindSessions(ctx context.Context,
	filter gatepass.SessionFilter) ([]*gatepass.Session, error) {
	var where []string
	var args []any
	if v := filter.UserID; v != nil {
		where, args = append(where, "user_id = ?"), append(args, *v)
	}
	if v := filter.ActiveAt; v != nil {
		// The same test as Session.Active.
		where = append(where, "revoked_at IS NULL", "expires_at > ?")
		args = append(args, timeArg(*v))
	}
	return tx.findSessions(ctx, where, args)
}

// CountActiveSessions counts the sessions alive at at. It visits every session not
// revoked; no index serves it, and none would help much: once prune has run, the
// live sessions are nearly the whole table, and an index on expiry would cost
// every sign-in and revocation a write. Callers that poll it cache the count.
func (tx *tx) CountActiveSessions(ctx context.Context, at time.Time) (int64, error) {
	if err := requireTime(at, "count"); err != nil {
		return 0, err
	}

	// The same test as Session.Active.
	var n int64
	err := tx.queryRowContext(ctx, `
		SELECT count(*)
		FROM sessions
		WHERE revoked_at IS NULL AND expires_at > ?`,
		timeArg(at),
	).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count sessions: %w", err)
	}
	return n, nil
}

// findSessions selects sessions matching every condition in where, newest first;
// rowid breaks ties between sessions created in the same microsecond.
func (tx *tx) findSessions(ctx context.Context, where []string,
	args []any) ([]*gatepass.Session, error) {
	where = append(where, "1 = 1")
	rows, err := tx.queryContext(ctx, `
		SELECT `+sessionColumns+`
		FROM sessions
		WHERE `+strings.Join(where, " AND ")+`
		ORDER BY created_at DESC, rowid DESC`,
		args...)
	if err != nil {
		return nil, fmt.Errorf("query sessions: %w", err)
	}
	defer rows.Close()

	sessions := []*gatepass.Session{}
	for rows.Next() {
		var s gatepass.Session
		if err := rows.Scan(sessionFields(&s)...); err != nil {
			return nil, fmt.Errorf("scan session: %w", err)
		}
		sessions = append(sessions, &s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query sessions: %w", err)
	}
	return sessions, nil
}

// UpdateSession applies the non-nil fields of upd; a RevokedAt pointing at the
// zero time clears the revocation. With nothing to change it only checks that
// the session exists.
func (tx *tx) UpdateSession(ctx context.Context, id string, upd gatepass.SessionUpdate) error {
	var set []string
	var args []any
	if v := upd.LastUsedAt; v != nil {
		set, args = append(set, "last_used_at = ?"), append(args, timeArg(*v))
	}
	if v := upd.RevokedAt; v != nil {
		set, args = append(set, "revoked_at = ?"), append(args, timeArg(*v))
	}
	if v := upd.RevokeReason; v != nil {
		set, args = append(set, "revoke_reason = ?"), append(args, *v)
	}
	if len(set) == 0 {
		_, err := tx.FindSessionByID(ctx, id)
		return err
	}

	res, err := tx.execContext(ctx,
		`UPDATE sessions SET `+strings.Join(set, ", ")+` WHERE id = ?`,
		append(args, id)...)
	if err != nil {
		return fmt.Errorf("update session: %w", err)
	}
	if n, err := rowsAffected(res); err != nil {
		return err
	} else if n == 0 {
		return gatepass.Errorf(gatepass.ENOTFOUND, "session not found")
	}
	return nil
}

// RevokeSessions revokes the user's unrevoked sessions, expired ones included,
// except the one named by except. Returns EINVALID for a zero at.
func (tx *tx) RevokeSessions(ctx context.Context, userID int64, except string,
	at time.Time, reason string) (int, error) {
	if err := requireTime(at, "revocation"); err != nil {
		return 0, err
	}

	where := []string{"user_id = ?", "revoked_at IS NULL"}
	args := []any{timeArg(at), reason, userID}
	if except != "" {
		where, args = append(where, "id <> ?"), append(args, except)
	}
	res, err := tx.execContext(ctx, `
		UPDATE sessions SET revoked_at = ?, revoke_reason = ?
		WHERE `+strings.Join(where, " AND "),
		args...)
	if err != nil {
		return 0, fmt.Errorf("revoke sessions: %w", err)
	}
	return rowsAffected(res)
}

// findSessionWithUserSQL reads a session and its user in one statement: the
// columns of sessionColumns, then those of userColumns.
const findSessionWithUserSQL = `
	SELECT s.id, s.user_id, s.client_id, s.scope, s.user_agent, s.ip_address,
		s.created_at, s.last_used_at, s.expires_at, s.revoked_at, s.revoke_reason,
		u.id, u.name, u.email, u.password_hash, u.disabled, u.created_at, u.updated_at
	FROM sessions s
	JOIN users u ON u.id = s.user_id
	WHERE s.id = ?`

// FindSessionWithUser returns the session with id and its user, in one
// statement on a read-only connection, with no transaction to begin and end.
func (db *DB) FindSessionWithUser(ctx context.Context,
	id string) (*gatepass.Session, *gatepass.User, error) {
	if db.reader == nil {
		return nil, nil, errors.New("sqlite: database is not open")
	}

	var s gatepass.Session
	var u gatepass.User
	dest := append(sessionFields(&s), userFields(&u)...)
	err := db.reader.QueryRowContext(ctx, findSessionWithUserSQL, id).Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, gatepass.Errorf(gatepass.ENOTFOUND, "session not found")
	} else if isUnavailable(err) {
		unavailable := gatepass.Errorf(gatepass.EUNAVAILABLE, "database is unavailable")
		return nil, nil, fmt.Errorf("find session with user: %w: %w", unavailable, err)
	} else if err != nil {
		return nil, nil, fmt.Errorf("find session with user: %w", err)
	}
	return &s, &u, nil
}
