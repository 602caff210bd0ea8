package gatepass

import (
	"context"
	"time"
)

// Store is the storage contract every engine (SQLite, PostgreSQL) implements.
//
// The rules of rotation and reuse detection live once, in package auth, and run inside
// a Store transaction; the engine's job is to make that transaction atomic and to
// serialise rotations of one session. Keeping the rules out of the engines means both
// engines enforce exactly the same policy.
type Store interface {
	// Update runs fn in one read-write transaction and commits it if fn returns nil.
	// A process killed at any instant leaves either all of fn's writes or none.
	// Returns EUNAVAILABLE when the database cannot be reached.
	Update(ctx context.Context, fn func(Tx) error) error

	// View runs fn in a read-only transaction.
	View(ctx context.Context, fn func(Tx) error) error

	// FindSessionWithUser returns the session with id and the user it belongs
	// to, read together in one statement outside any transaction: the cheapest
	// consistent read of the two, for checks made on every request. Returns
	// ENOTFOUND if there is no such session.
	FindSessionWithUser(ctx context.Context, id string) (*Session, *User, error)

	// Ping reports whether the database answers; used by readiness checks.
	Ping(ctx context.Context) error

	// Close releases the database.
	Close() error
}

// Tx is the set of operations available inside a Store transaction. Every method
// takes the context first. Not-found lookups return ENOTFOUND. After a method
// returns any other error, fn must return it: on some engines the transaction is
// aborted by then. Times passed in must not be zero unless a field says so.
type Tx interface {
	// CreateUser inserts u and sets its ID. Returns ECONFLICT if the name is taken.
	CreateUser(ctx context.Context, u *User) error
	// FindUserByID returns ENOTFOUND if there is no such user.
	FindUserByID(ctx context.Context, id int64) (*User, error)
	// FindUserByName returns ENOTFOUND if there is no such user.
	FindUserByName(ctx context.Context, name string) (*User, error)
	// FindUsers lists users ordered by name.
	FindUsers(ctx context.Context, filter UserFilter) ([]*User, error)
	// UpdateUser applies the non-nil fields of upd. Returns ENOTFOUND.
	UpdateUser(ctx context.Context, id int64, upd UserUpdate) error

	// CreateSession inserts s. Returns ECONFLICT if the ID exists and ENOTFOUND if
	// the user does not.
	CreateSession(ctx context.Context, s *Session) error
	// FindSessionByID returns ENOTFOUND if there is no such session.
	FindSessionByID(ctx context.Context, id string) (*Session, error)
	// LockSession is FindSessionByID that also holds a write lock on the session
	// until the transaction ends, so rotations of one family run one at a time.
	LockSession(ctx context.Context, id string) (*Session, error)
	// LockRefreshToken finds the refresh token whose hash is hash, locks its
	// session as LockSession does, and returns the token as it is once the lock
	// is held, with the session and its user: a rotation that committed while
	// this call waited for the lock is seen. Returns ENOTFOUND if there is no
	// such token.
	LockRefreshToken(ctx context.Context, hash []byte) (*RefreshToken, *Session, *User, error)
	// FindSessions lists sessions, newest first.
	FindSessions(ctx context.Context, filter SessionFilter) ([]*Session, error)
	// CountActiveSessions counts the sessions s with s.Active(at): never revoked
	// and not expired at that time. Returns EINVALID for a zero at.
	CountActiveSessions(ctx context.Context, at time.Time) (int64, error)
	// UpdateSession applies the non-nil fields of upd. Returns ENOTFOUND.
	UpdateSession(ctx context.Context, id string, upd SessionUpdate) error
	// RevokeSessions revokes every not yet revoked session of a user, except the one
	// named by except (if any), and returns how many it revoked.
	RevokeSessions(ctx context.Context, userID int64, except string, at time.Time,
		reason string) (int, error)
	// FindSessionsRevokedSince lists the sessions revoked at or after since, oldest
	// revocation first, with only what an instance needs to refuse their access
	// tokens. Returns EINVALID for a zero since.
	FindSessionsRevokedSince(ctx context.Context, since time.Time) ([]RevokedSession,
		error)

	// CreateRefreshToken inserts t. Returns ECONFLICT if the hash exists or the
	// session already has a token of that generation (a fork of the family), and
	// ENOTFOUND if the session does not exist.
	CreateRefreshToken(ctx context.Context, t *RefreshToken) error
	// FindRefreshToken looks a token up by the SHA-256 hash of its value.
	FindRefreshToken(ctx context.Context, hash []byte) (*RefreshToken, error)
	// MarkRefreshTokenUsed sets UsedAt on an unused token. Returns ECONFLICT if the
	// token was already used, so a token can never be rotated twice.
	MarkRefreshTokenUsed(ctx context.Context, hash []byte, at time.Time) error
	// RotateRefreshToken marks the unused token hash used at next.CreatedAt,
	// inserts its successor next and sets their session's LastUsedAt to the same
	// time: MarkRefreshTokenUsed, CreateRefreshToken and UpdateSession in one
	// call, which an engine can make one statement. Returns ENOTFOUND, ECONFLICT
	// if the token was already used or next clashes as in CreateRefreshToken, and
	// EINVALID for a zero time or another session. After an error the
	// transaction must be rolled back.
	RotateRefreshToken(ctx context.Context, hash []byte, next *RefreshToken) error

	// CreateKey inserts k. Returns ECONFLICT if the ID exists.
	CreateKey(ctx context.Context, k *SigningKey) error
	// LockKeys holds a lock on the signing keys until the transaction ends, so
	// that instances deciding at once whether to create or rotate a key take turns
	// and the store never ends up with two current keys.
	LockKeys(ctx context.Context) error
	// FindKeys returns every stored signing key, oldest first.
	FindKeys(ctx context.Context) ([]*SigningKey, error)
	// RetireKeys sets RetiredAt on every current key.
	RetireKeys(ctx context.Context, at time.Time) error

	// CreateSecret stores a named server secret. Returns ECONFLICT if it exists.
	CreateSecret(ctx context.Context, name string, value []byte) error
	// FindSecret returns a named server secret, or ENOTFOUND.
	FindSecret(ctx context.Context, name string) ([]byte, error)

	// Prune deletes rows that can no longer matter and reports how many. Refresh
	// tokens of deleted sessions go with them. It is the only way to delete audit
	// events, and only those before filter.AuditBefore.
	Prune(ctx context.Context, filter PruneFilter) (PruneResult, error)

	// CreateAuditEvent appends e to the audit trail and sets its ID, at the
	// latest when the transaction commits: a store may send the write together
	// with the next statement, so a failure to write it can be returned by a
	// later call or by the commit. Returns EINVALID for a zero OccurredAt or an
	// empty Kind. Nothing changes an event, and only Prune deletes one: the
	// database refuses anything else.
	CreateAuditEvent(ctx context.Context, e *AuditEvent) error
	// FindAuditEvents lists the events filter selects, newest first.
	FindAuditEvents(ctx context.Context, filter AuditFilter) ([]*AuditEvent, error)
}

// UserFilter selects users. Nil fields match everything.
type UserFilter struct {
	Name   *string
	Offset int
	Limit  int // 0 means no limit
}

// UserUpdate lists the fields of a user to change; nil fields are left alone.
type UserUpdate struct {
	Email        *string
	PasswordHash *string
	Disabled     *bool

	// UpdatedAt is written when not zero.
	UpdatedAt time.Time
}

// SessionFilter selects sessions. Nil fields match everything.
type SessionFilter struct {
	UserID *int64

	// ActiveAt, when set, keeps only the sessions s with s.Active(*ActiveAt): never
	// revoked, and not expired at that time.
	ActiveAt *time.Time
}

// SessionUpdate lists the fields of a session to change; nil fields are left alone.
type SessionUpdate struct {
	LastUsedAt   *time.Time
	RevokedAt    *time.Time
	RevokeReason *string
}

// RevokedSession is a revoked session as FindSessionsRevokedSince lists it.
type RevokedSession struct {
	ID        string
	RevokedAt time.Time
}

// PruneFilter says which rows Prune deletes.
type PruneFilter struct {
	// ExpiredBefore: refresh tokens and sessions that expired before it.
	ExpiredBefore time.Time
	// RevokedBefore: sessions (and their refresh tokens) revoked before it.
	RevokedBefore time.Time
	// KeysRetiredBefore: retired signing keys retired before it.
	KeysRetiredBefore time.Time
	// AuditBefore: audit events that occurred before it, oldest first. Prune's
	// deletes are the only ones the database lets through.
	AuditBefore time.Time

	// Limit caps the rows deleted per table in one call, so a large backlog is
	// removed in short transactions that never stall requests. 0 means no cap.
	// The tokens of a deleted session go with it and are not capped.
	Limit int
}

// PruneResult counts the rows Prune deleted.
type PruneResult struct {
	Sessions int

	// RefreshTokens includes the tokens deleted with their sessions.
	RefreshTokens int
	Keys          int
	AuditEvents   int
}
