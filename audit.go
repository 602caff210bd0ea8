package gatepass

import "time"

// AuditEvent is one entry of the audit trail: a security-relevant change or
// attempt, written in the same transaction as the change it describes, so that
// after a crash the trail and the data still agree. The trail is append-only:
// the storage contract has no way to change an event, and deletes only those
// older than the retention, through Prune; the database refuses anything else.
type AuditEvent struct {
	ID         int64
	OccurredAt time.Time
	Kind       string

	// UserID is the account the event concerns; 0 when there is none, such as a
	// sign-in with an unknown name.
	UserID int64

	// Username is the account's name when the event was written. For a failed
	// sign-in it is the name submitted, truncated, whether or not it exists.
	Username string

	// SessionID is the session the event concerns, or "".
	SessionID string

	// ClientIP and UserAgent describe who made the request, when it came over
	// the network; both are empty for admin commands.
	ClientIP  string
	UserAgent string

	// Reason says why, as a short fixed code: a Revoke reason, a sign-in
	// failure such as "wrong_password", or "" when the kind says it all.
	Reason string

	// Detail adds facts that fit no other field, such as the id and algorithm
	// of a new signing key. It never holds a secret.
	Detail string
}

// Kinds of audit events.
const (
	AuditSignIn       = "sign_in"
	AuditSignInFailed = "sign_in_failed"

	// AuditRefresh is a refresh token rotated, or with reason "replay" a
	// rotated one presented again inside the reuse interval.
	AuditRefresh = "refresh"

	// AuditReuseDetected is a rotated refresh token presented after the reuse
	// interval. The session's revocation is recorded beside it as
	// AuditSessionRevoked with reason RevokeReuse.
	AuditReuseDetected = "reuse_detected"

	// AuditSessionRevoked is one session ended; Reason is the session's
	// RevokeReason. Revoking many sessions at once writes one event for each.
	AuditSessionRevoked = "session_revoked"

	AuditUserCreated      = "user_created"
	AuditUserImported     = "user_imported"
	AuditPasswordChanged  = "password_changed"
	AuditPasswordRehashed = "password_rehashed"
	AuditUserDisabled     = "user_disabled"
	AuditUserEnabled      = "user_enabled"

	AuditKeyCreated = "key_created"
	AuditKeyRotated = "key_rotated"
)

// AuditFilter selects audit events. Nil fields match everything.
type AuditFilter struct {
	UserID *int64

	// Since keeps the events that occurred at or after it.
	Since *time.Time

	// Limit caps the number of events returned, the newest ones; 0 means no
	// limit.
	Limit int
}
