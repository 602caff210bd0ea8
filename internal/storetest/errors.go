package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatepass/gatepass"
)

// testNotFound checks that every lookup or change of a missing row returns
// ENOTFOUND, and so does creating a row whose parent is missing.
func testNotFound(t *testing.T, s gatepass.Store) {
	ctx := t.Context()
	alice := createUser(t, s, "alice")
	createSessions(t, s, newSession("s1", alice.ID))
	missing := alice.ID + 1000
	email, reason, at := "x@example.com", gatepass.RevokeAdmin, now

	tests := []struct {
		name string
		fn   func(tx gatepass.Tx) error
	}{
		{name: "find-user-by-id", fn: func(tx gatepass.Tx) error {
			_, err := tx.FindUserByID(ctx, missing)
			return err
		}},
		{name: "find-user-by-name", fn: func(tx gatepass.Tx) error {
			_, err := tx.FindUserByName(ctx, "nobody")
			return err
		}},
		{name: "update-user", fn: func(tx gatepass.Tx) error {
			return tx.UpdateUser(ctx, missing, gatepass.UserUpdate{Email: &email})
		}},
		{name: "update-user-no-fields", fn: func(tx gatepass.Tx) error {
			return tx.UpdateUser(ctx, missing, gatepass.UserUpdate{})
		}},
		{name: "create-session-of-missing-user", fn: func(tx gatepass.Tx) error {
			return tx.CreateSession(ctx, newSession("s2", missing))
		}},
		{name: "find-session-by-id", fn: func(tx gatepass.Tx) error {
			_, err := tx.FindSessionByID(ctx, "nosuch")
			return err
		}},
		{name: "lock-session", fn: func(tx gatepass.Tx) error {
			_, err := tx.LockSession(ctx, "nosuch")
			return err
		}},
		{name: "update-session", fn: func(tx gatepass.Tx) error {
			upd := gatepass.SessionUpdate{RevokedAt: &at, RevokeReason: &reason}
			return tx.UpdateSession(ctx, "nosuch", upd)
		}},
		{name: "update-session-no-fields", fn: func(tx gatepass.Tx) error {
			return tx.UpdateSession(ctx, "nosuch", gatepass.SessionUpdate{})
		}},
		{name: "create-refresh-token-of-missing-session", fn: func(tx gatepass.Tx) error {
			return tx.CreateRefreshToken(ctx, newToken("t1", "nosuch"))
		}},
		{name: "find-refresh-token", fn: func(tx gatepass.Tx) error {
			_, err := tx.FindRefreshToken(ctx, hash("nosuch"))
			return err
		}},
		{name: "mark-refresh-token-used", fn: func(tx gatepass.Tx) error {
			return tx.MarkRefreshTokenUsed(ctx, hash("nosuch"), now)
		}},
		{name: "find-secret", fn: func(tx gatepass.Tx) error {
			_, err := tx.FindSecret(ctx, "nosuch")
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkCode(t, s.Update(ctx, tt.fn), gatepass.ENOTFOUND)
		})
	}
}

// testConflict checks that creating a row whose key exists returns ECONFLICT and
// leaves the stored row alone.
func testConflict(t *testing.T, s gatepass.Store) {
	ctx := t.Context()
	alice := createUser(t, s, "alice")
	sess := newSession("s1", alice.ID)
	createSessions(t, s, sess)
	tok := newToken("t1", "s1")
	createTokens(t, s, tok)
	key := newKey("k1", now)
	createKeys(t, s, key)
	update(t, s, func(tx gatepass.Tx) error {
		return tx.CreateSecret(ctx, "cookie", []byte("first"))
	})

	// Each duplicate differs from the stored row in some other field.
	tests := []struct {
		name string
		fn   func(tx gatepass.Tx) error
	}{
		{name: "user-name", fn: func(tx gatepass.Tx) error {
			u := newUser("alice")
			u.Email, u.PasswordHash = "other@example.com", "other"
			return tx.CreateUser(ctx, u)
		}},
		{name: "session-id", fn: func(tx gatepass.Tx) error {
			other := newSession("s1", alice.ID)
			other.ClientID, other.UserAgent = "cli", "curl/8.0"
			return tx.CreateSession(ctx, other)
		}},
		{name: "refresh-token-hash", fn: func(tx gatepass.Tx) error {
			other := newToken("t1", "s1")
			other.Generation = 5
			return tx.CreateRefreshToken(ctx, other)
		}},
		{name: "refresh-token-generation", fn: func(tx gatepass.Tx) error {
			t1, err := tx.FindRefreshToken(ctx, hash("t1"))
			if err != nil {
				return err
			}
			fork := newToken("t1-fork", "s1")
			fork.Generation = t1.Generation
			return tx.CreateRefreshToken(ctx, fork)
		}},
		{name: "key-id", fn: func(tx gatepass.Tx) error {
			other := newKey("k1", now.Add(time.Hour))
			other.Algorithm = "RS256"
			return tx.CreateKey(ctx, other)
		}},
		{name: "secret-name", fn: func(tx gatepass.Tx) error {
			return tx.CreateSecret(ctx, "cookie", []byte("second"))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkCode(t, s.Update(ctx, tt.fn), gatepass.ECONFLICT)
		})
	}

	// The originals are intact.
	view(t, s, func(tx gatepass.Tx) error {
		gotUser, err := tx.FindUserByName(ctx, "alice")
		if err != nil {
			return err
		}
		gotSession, err := tx.FindSessionByID(ctx, "s1")
		if err != nil {
			return err
		}
		gotToken, err := tx.FindRefreshToken(ctx, tok.Hash)
		if err != nil {
			return err
		}
		gotKeys, err := tx.FindKeys(ctx)
		if err != nil {
			return err
		}
		gotSecret, err := tx.FindSecret(ctx, "cookie")
		if err != nil {
			return err
		}

		if diff := cmp.Diff(gotUser, alice); diff != "" {
			t.Errorf("user (-got +want):\n%s", diff)
		}
		if diff := cmp.Diff(gotSession, sess); diff != "" {
			t.Errorf("session (-got +want):\n%s", diff)
		}
		if diff := cmp.Diff(gotToken, tok); diff != "" {
			t.Errorf("refresh token (-got +want):\n%s", diff)
		}
		if diff := cmp.Diff(gotKeys, []*gatepass.SigningKey{key}); diff != "" {
			t.Errorf("keys (-got +want):\n%s", diff)
		}
		if diff := cmp.Diff(string(gotSecret), "first"); diff != "" {
			t.Errorf("secret (-got +want):\n%s", diff)
		}
		return nil
	})
}
