package postgres

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatepass/gatepass"
)

const sessionColumns = `id, user_id, client_id, scope, user_agent, ip_address,
	created_at, last_used_at, expires_at, revoked_at, revoke_reason`

// CreateSession inserts s. Returns ENOTFOUND if its user does not exist.
func (tx *tx) CreateSession(ctx context.Context, s *gatepass.Session) error {
	_, err := tx.tx.Exec(ctx, `
		INSERT INTO sessions (`+sessionColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		s.ID, s.UserID, s.ClientID, s.Scope, s.UserAgent, s.IPAddress,
		timeArg(s.CreatedAt), timeArg(s.LastUsedAt), timeArg(s.ExpiresAt),
		timeArg(s.RevokedAt), s.RevokeReason)
	if isDuplicate(err) {
		return gatepass.Errorf(gatepass.ECONFLICT, "session already exists")
	} else if isMissingParent(err) {
		return gatepass.Errorf(gatepass.ENOTFOUND, "user not found")
	} else if err != nil {
		return formatError("insert session", err)
	}
	return nil
}

// FindSessionByID returns the session with id.
func (tx *tx) FindSessionByID(ctx context.Context, id string) (*gatepass.Session, error) {
	return tx.findSession(ctx, id, "")
}

// LockSession returns the session with id and holds a row lock on it until the
// transaction ends. A rotation of the same session in another transaction, on
// this instance or another, waits at its own LockSession until then, and then
// reads the session and its tokens as this transaction left them.
func (tx *tx) LockSession(ctx context.Context, id string) (*gatepass.Session, error) {
	return tx.findSession(ctx, id, "FOR UPDATE")
}

func (tx *tx) findSession(ctx context.Context, id, lock string) (*gatepass.Session, error) {
	sessions, err := tx.findSessions(ctx, []string{"id = @id"}, pgx.NamedArgs{"id": id}, lock)
	if err != nil {
		return nil, err
	} else if len(sessions) == 0 {
		return nil, gatepass.Errorf(gatepass.ENOTFOUND, "session not found")
	}
	return sessions[0], nil
}

// FindSessions lists the sessions filter selects, newest first.
func (tx *tx) FindSessions(ctx context.Context,
	filter gatepass.SessionFilter) ([]*gatepass.Session, error) {
	var where []string
	args := pgx.NamedArgs{}
	if v := filter.UserID; v != nil {
		where, args["user_id"] = append(where, "user_id = @user_id"), *v
	}
	if v := filter.ActiveAt; v != nil {
		// The same test as Session.Active.
		where = append(where, "revoked_at IS NULL", "expires_at > @active_at")
		args["active_at"] = timeArg(*v)
	}
	return tx.findSessions(ctx, where, args, "")
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
	err := tx.tx.QueryRow(ctx, `
		SELECT count(*)
		FROM sessions
		WHERE revoked_at IS NULL AND expires_at > $1`,
		timeArg(at),
	).Scan(&n)
	if err != nil {
		return 0, formatError("count sessions", err)
	}
	return n, nil
}

// findSessions selects sessions matching every condition in where, newest
// first, with the locking clause lock. PostgreSQL has no insertion order to fall
// back on, so the ID breaks ties between sessions created in the same
// microsecond: the order is arbitrary there, but the same on every call.
func (tx *tx) findSessions(ctx context.Context, where []string, args pgx.NamedArgs,
	lock string) ([]*gatepass.Session, error) {
	where = append(where, "true")
	rows, err := tx.tx.Query(ctx, `
		SELECT `+sessionColumns+`
		FROM sessions
		WHERE `+strings.Join(where, " AND ")+`
		ORDER BY created_at DESC, id DESC
		`+lock,
		args)
	if err != nil {
		return nil, formatError("query sessions", err)
	}
	defer rows.Close()

	sessions := []*gatepass.Session{}
	for rows.Next() {
		var s gatepass.Session
		if err := rows.Scan(sessionFields(&s)...); err != nil {
			return nil, formatError("scan session", err)
		}
		sessions = append(sessions, &s)
	}
	if err := rows.Err(); err != nil {
		return nil, formatError("query sessions", err)
	}
	return sessions, nil
}

// UpdateSession applies the non-nil fields of upd; a RevokedAt pointing at the
// zero time clears the revocation. With nothing to change it only checks that
// the session exists.
func (tx *tx) UpdateSession(ctx context.Context, id string, upd gatepass.SessionUpdate) error {
	var set []string
	args := pgx.NamedArgs{"id": id}
	if v := upd.LastUsedAt; v != nil {
		set, args["last_used_at"] = append(set, "last_used_at = @last_used_at"), timeArg(*v)
	}
	if v := upd.RevokedAt; v != nil {
		set, args["revoked_at"] = append(set, "revoked_at = @revoked_at"), timeArg(*v)
	}
	if v := upd.RevokeReason; v != nil {
		set, args["revoke_reason"] = append(set, "revoke_reason = @revoke_reason"), *v
	}
	if len(set) == 0 {
		_, err := tx.FindSessionByID(ctx, id)
		return err
	}

	n, err := tx.exec(ctx,
		`UPDATE sessions SET `+strings.Join(set, ", ")+` WHERE id = @id`, args)
	if err != nil {
		return formatError("update session", err)
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

	where := []string{"user_id = @user_id", "revoked_at IS NULL"}
	args := pgx.NamedArgs{"at": timeArg(at), "reason": reason, "user_id": userID}
	if except != "" {
		where, args["except"] = append(where, "id <> @except"), except
	}
	n, err := tx.exec(ctx, `
		UPDATE sessions SET revoked_at = @at, revoke_reason = @reason
		WHERE `+strings.Join(where, " AND "),
		args)
	if err != nil {
		return 0, formatError("revoke sessions", err)
	}
	return n, nil
}

// sessionFields are the scan destinations of sessionColumns.
func sessionFields(s *gatepass.Session) []any {
	return []any{&s.ID, &s.UserID, &s.ClientID, &s.Scope, &s.UserAgent, &s.IPAddress,
		timeColumn{&s.CreatedAt}, timeColumn{&s.LastUsedAt}, timeColumn{&s.ExpiresAt},
		timeColumn{&s.RevokedAt}, &s.RevokeReason}
}

// findSessionWithUserSQL reads a session and its user in one statement.
var findSessionWithUserSQL = `
	SELECT ` + prefixed("s", sessionColumns) + `, ` + prefixed("u", userColumns) + `
	FROM sessions s
	JOIN users u ON u.id = s.user_id
	WHERE s.id = $1`

// FindSessionWithUser returns the session with id and its user. The one
// statement runs on a pooled connection outside a transaction, so it costs one
// round trip where a View would take three (BEGIN with the first read, the
// second read, COMMIT). Like a transaction whose first batch finds its
// connection dead, it runs once more on another; a read can always be repeated.
func (db *DB) FindSessionWithUser(ctx context.Context,
	id string) (*gatepass.Session, *gatepass.User, error) {
	if db.pool == nil {
		return nil, nil, errNotOpen
	}

	s, u, err := db.findSessionWithUser(ctx, id)
	if isUnavailable(err) && ctx.Err() == nil {
		db.Logger.Info("connection lost before the read; retrying", attrError, err)
		s, u, err = db.findSessionWithUser(ctx, id)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, gatepass.Errorf(gatepass.ENOTFOUND, "session not found")
	} else if err != nil {
		return nil, nil, formatError("find session with user", err)
	}
	return s, u, nil
}

func (db *DB) findSessionWithUser(ctx context.Context,
	id string) (*gatepass.Session, *gatepass.User, error) {
	var s gatepass.Session
	var u gatepass.User
	dest := append(sessionFields(&s), userFields(&u)...)
	if err := db.pool.QueryRow(ctx, findSessionWithUserSQL, id).Scan(dest...); err != nil {
		return nil, nil, err
	}
	return &s, &u, nil
}
