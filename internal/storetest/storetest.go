// Package storetest is the conformance suite of the storage contract. Every
// engine runs it from its own tests, so that all of them behave exactly as
// gatepass.Store and gatepass.Tx document, down to error codes and time precision.
package storetest

import (
	"crypto/sha256"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatepass/gatepass"
)

// now is the suite's fixed clock. It falls on a whole microsecond, the precision
// every engine keeps, so times written from it read back equal.
var now = time.Date(2026, time.March, 14, 15, 9, 26, 535897000, time.UTC)

// Run runs the conformance suite against stores made by open, which must return a
// fresh, empty, migrated store on every call. The suite closes each store.
func Run(t *testing.T, open func(t *testing.T) gatepass.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s gatepass.Store)
	}{
		{name: "ping", fn: testPing},
		{name: "not-found", fn: testNotFound},
		{name: "conflict", fn: testConflict},
		{name: "create-user", fn: testCreateUser},
		{name: "find-users", fn: testFindUsers},
		{name: "update-user", fn: testUpdateUser},
		{name: "create-session", fn: testCreateSession},
		{name: "find-sessions", fn: testFindSessions},
		{name: "find-session-with-user", fn: testFindSessionWithUser},
		{name: "count-active-sessions", fn: testCountActiveSessions},
		{name: "update-session", fn: testUpdateSession},
		{name: "revoke-sessions", fn: testRevokeSessions},
		{name: "find-sessions-revoked-since", fn: testFindSessionsRevokedSince},
		{name: "create-refresh-token", fn: testCreateRefreshToken},
		{name: "mark-refresh-token-used", fn: testMarkRefreshTokenUsed},
		{name: "rotate-refresh-token", fn: testRotateRefreshToken},
		{name: "keys", fn: testKeys},
		{name: "retire-keys", fn: testRetireKeys},
		{name: "secrets", fn: testSecrets},
		{name: "prune-expired", fn: testPruneExpired},
		{name: "prune-revoked", fn: testPruneRevoked},
		{name: "prune-keys", fn: testPruneKeys},
		{name: "prune-zero-filter", fn: testPruneZeroFilter},
		{name: "prune-limit", fn: testPruneLimit},
		{name: "prune-audit", fn: testPruneAudit},
		{name: "prune-audit-unlimited", fn: testPruneAuditUnlimited},
		{name: "prune-audit-zero", fn: testPruneAuditZero},
		{name: "time-round-trip", fn: testTimeRoundTrip},
		{name: "update-rolls-back-on-error", fn: testUpdateRollsBackOnError},
		{name: "update-rolls-back-on-panic", fn: testUpdateRollsBackOnPanic},
		{name: "view-cannot-write", fn: testViewCannotWrite},
		{name: "concurrent-rotation", fn: testConcurrentRotation(false)},
		{name: "concurrent-rotation-locked", fn: testConcurrentRotation(true)},
		{name: "concurrent-rotate-refresh-token",
			fn: testConcurrentRotateRefreshToken(false)},
		{name: "concurrent-rotate-refresh-token-locked",
			fn: testConcurrentRotateRefreshToken(true)},
		{name: "lock-refresh-token", fn: testLockRefreshToken},
		{name: "concurrent-lock-refresh-token", fn: testConcurrentLockRefreshToken},
		{name: "locked-rotation-conflict", fn: testLockedRotationConflict},
		{name: "concurrent-key-creation", fn: testConcurrentKeyCreation},
		{name: "create-audit-event", fn: testCreateAuditEvent},
		{name: "find-audit-events", fn: testFindAuditEvents},
		{name: "audit-event-rolls-back", fn: testAuditEventRollsBack},
		{name: "audit-outlives-prune", fn: testAuditOutlivesPrune},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("close store: %v", err)
				}
			})
			tt.fn(t, s)
		})
	}
}

// testPing checks that an open store answers.
func testPing(t *testing.T, s gatepass.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

// update runs fn in an Update transaction and fails the test on error.
func update(t *testing.T, s gatepass.Store, fn func(tx gatepass.Tx) error) {
	t.Helper()
	if err := s.Update(t.Context(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// view runs fn in a View transaction and fails the test on error.
func view(t *testing.T, s gatepass.Store, fn func(tx gatepass.Tx) error) {
	t.Helper()
	if err := s.View(t.Context(), fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

// checkCode reports an error unless err carries the gatepass error code want.
func checkCode(t *testing.T, err error, want string) {
	t.Helper()
	if got := gatepass.ErrorCode(err); got != want {
		t.Errorf("error code = %q, want %q (error: %v)", got, want, err)
	}
}

// checkTime reports an error unless got is want read back from storage: the same
// instant truncated to microseconds, in UTC, or the zero time for a zero want.
func checkTime(t *testing.T, name string, got, want time.Time) {
	t.Helper()
	want = want.Truncate(time.Microsecond)
	if want.IsZero() && !got.IsZero() {
		t.Errorf("%s = %v, want the zero time", name, got)
	} else if !got.Equal(want) {
		t.Errorf("%s = %v, want %v", name, got, want)
	} else if !got.IsZero() && got.Location() != time.UTC {
		t.Errorf("%s location = %v, want UTC", name, got.Location())
	}
}

// hash returns the SHA-256 hash of a refresh token value.
func hash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// newUser returns an unsaved user named name.
func newUser(name string) *gatepass.User {
	return &gatepass.User{
		Name:         name,
		Email:        name + "@example.com",
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
		CreatedAt:    now.Add(-24 * time.Hour),
		UpdatedAt:    now.Add(-24 * time.Hour),
	}
}

// newSession returns an unsaved, active session of userID created at now.
func newSession(id string, userID int64) *gatepass.Session {
	return &gatepass.Session{
		ID:         id,
		UserID:     userID,
		ClientID:   "web",
		Scope:      "openid profile",
		UserAgent:  "Mozilla/5.0 (X11; Linux x86_64)",
		IPAddress:  "192.0.2.10",
		CreatedAt:  now,
		LastUsedAt: now,
		ExpiresAt:  now.Add(30 * 24 * time.Hour),
	}
}

// generations numbers the tokens newToken makes, so that tokens of one session
// never share a generation (stores refuse that as a fork of the family).
var generations atomic.Int64

// newToken returns an unsaved, unused refresh token of session whose value is
// value.
func newToken(value, sessionID string) *gatepass.RefreshToken {
	return &gatepass.RefreshToken{
		Hash:       hash(value),
		SessionID:  sessionID,
		Generation: generations.Add(1),
		CreatedAt:  now,
		ExpiresAt:  now.Add(7 * 24 * time.Hour),
	}
}

// newKey returns an unsaved, current signing key created at created.
func newKey(id string, created time.Time) *gatepass.SigningKey {
	return &gatepass.SigningKey{
		ID:        id,
		Algorithm: "ES256",
		Private:   []byte("private key of " + id),
		CreatedAt: created,
	}
}

// createUser stores a new user named name and returns it.
func createUser(t *testing.T, s gatepass.Store, name string) *gatepass.User {
	t.Helper()
	u := newUser(name)
	update(t, s, func(tx gatepass.Tx) error { return tx.CreateUser(t.Context(), u) })
	return u
}

// createSessions stores sessions.
func createSessions(t *testing.T, s gatepass.Store, sessions ...*gatepass.Session) {
	t.Helper()
	update(t, s, func(tx gatepass.Tx) error {
		for _, sess := range sessions {
			if err := tx.CreateSession(t.Context(), sess); err != nil {
				return err
			}
		}
		return nil
	})
}

// createTokens stores refresh tokens.
func createTokens(t *testing.T, s gatepass.Store, tokens ...*gatepass.RefreshToken) {
	t.Helper()
	update(t, s, func(tx gatepass.Tx) error {
		for _, tok := range tokens {
			if err := tx.CreateRefreshToken(t.Context(), tok); err != nil {
				return err
			}
		}
		return nil
	})
}

// createKeys stores signing keys.
func createKeys(t *testing.T, s gatepass.Store, keys ...*gatepass.SigningKey) {
	t.Helper()
	update(t, s, func(tx gatepass.Tx) error {
		for _, k := range keys {
			if err := tx.CreateKey(t.Context(), k); err != nil {
				return err
			}
		}
		return nil
	})
}
