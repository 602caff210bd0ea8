package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatepass/gatepass"
)

// testTimeRoundTrip checks that times read back in UTC, truncated to
// microseconds, and that the zero time reads back as the zero time and is told
// apart from the Unix epoch.
func testTimeRoundTrip(t *testing.T, s gatepass.Store) {
	ctx := t.Context()
	india := time.FixedZone("IST", 5*3600+1800)
	// The nanoseconds would round up to the next microsecond; they must be dropped.
	precise := time.Date(2026, time.March, 14, 20, 39, 26, 535897999, india)
	epoch := time.Unix(0, 0)

	u := newUser("alice")
	u.CreatedAt, u.UpdatedAt = precise, time.Time{}
	sess := newSession("s1", 0)
	sess.CreatedAt, sess.LastUsedAt, sess.ExpiresAt = precise, epoch, precise.Add(time.Hour)
	tok := newToken("t1", "s1")
	tok.CreatedAt, tok.ExpiresAt = precise, precise.Add(time.Hour)
	key := newKey("k1", precise)
	update(t, s, func(tx gatepass.Tx) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		sess.UserID = u.ID
		if err := tx.CreateSession(ctx, sess); err != nil {
			return err
		}
		if err := tx.CreateRefreshToken(ctx, tok); err != nil {
			return err
		}
		return tx.CreateKey(ctx, key)
	})
	checkTimes(t, s, u, sess, tok, key)

	// Set every time that was zero.
	update(t, s, func(tx gatepass.Tx) error {
		userUpd := gatepass.UserUpdate{UpdatedAt: precise}
		if err := tx.UpdateUser(ctx, u.ID, userUpd); err != nil {
			return err
		}
		sessionUpd := gatepass.SessionUpdate{RevokedAt: &precise}
		if err := tx.UpdateSession(ctx, sess.ID, sessionUpd); err != nil {
			return err
		}
		if err := tx.MarkRefreshTokenUsed(ctx, tok.Hash, precise); err != nil {
			return err
		}
		return tx.RetireKeys(ctx, precise)
	})
	u.UpdatedAt, sess.RevokedAt, tok.UsedAt, key.RetiredAt = precise, precise, precise, precise
	checkTimes(t, s, u, sess, tok, key)
}

// checkTimes reports an error unless every time of the stored rows is the one of
// the given row as storage keeps it.
func checkTimes(t *testing.T, s gatepass.Store, u *gatepass.User, sess *gatepass.Session,
	tok *gatepass.RefreshToken, key *gatepass.SigningKey) {
	t.Helper()
	view(t, s, func(tx gatepass.Tx) error {
		ctx := t.Context()
		gotUser, err := tx.FindUserByID(ctx, u.ID)
		if err != nil {
			return err
		}
		gotSession, err := tx.FindSessionByID(ctx, sess.ID)
		if err != nil {
			return err
		}
		gotToken, err := tx.FindRefreshToken(ctx, tok.Hash)
		if err != nil {
			return err
		}
		keys, err := tx.FindKeys(ctx)
		if err != nil {
			return err
		} else if len(keys) != 1 {
			t.Fatalf("FindKeys returned %d keys, want 1", len(keys))
		}

		checkTime(t, "user CreatedAt", gotUser.CreatedAt, u.CreatedAt)
		checkTime(t, "user UpdatedAt", gotUser.UpdatedAt, u.UpdatedAt)
		checkTime(t, "session CreatedAt", gotSession.CreatedAt, sess.CreatedAt)
		checkTime(t, "session LastUsedAt", gotSession.LastUsedAt, sess.LastUsedAt)
		checkTime(t, "session ExpiresAt", gotSession.ExpiresAt, sess.ExpiresAt)
		checkTime(t, "session RevokedAt", gotSession.RevokedAt, sess.RevokedAt)
		checkTime(t, "token CreatedAt", gotToken.CreatedAt, tok.CreatedAt)
		checkTime(t, "token ExpiresAt", gotToken.ExpiresAt, tok.ExpiresAt)
		checkTime(t, "token UsedAt", gotToken.UsedAt, tok.UsedAt)
		checkTime(t, "key CreatedAt", keys[0].CreatedAt, key.CreatedAt)
		checkTime(t, "key RetiredAt", keys[0].RetiredAt, key.RetiredAt)
		return nil
	})
}

// testUpdateRollsBackOnError checks that when fn fails, none of its writes
// survive: not the rows it created, changed or deleted.
func testUpdateRollsBackOnError(t *testing.T, s gatepass.Store) {
	ctx := t.Context()
	alice := seed(t, s)
	before := snapshot(t, s)

	errBoom := errors.New("boom")
	err := s.Update(ctx, func(tx gatepass.Tx) error {
		if err := writeEverything(t, tx, alice.ID); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Errorf("Update error = %v, want fn's error", err)
	}
	if diff := cmp.Diff(snapshot(t, s), before); diff != "" {
		t.Errorf("store after failed Update (-got +want):\n%s", diff)
	}
}

// testUpdateRollsBackOnPanic checks that a panicking fn reaches the caller, leaves
// no write behind, and leaves the store usable.
func testUpdateRollsBackOnPanic(t *testing.T, s gatepass.Store) {
	ctx := t.Context()
	alice := seed(t, s)
	before := snapshot(t, s)

	func() {
		defer func() {
			if recover() == nil {
				t.Error("Update did not pass fn's panic on")
			}
		}()
		s.Update(ctx, func(tx gatepass.Tx) error {
			if err := writeEverything(t, tx, alice.ID); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	if diff := cmp.Diff(snapshot(t, s), before); diff != "" {
		t.Errorf("store after panicking Update (-got +want):\n%s", diff)
	}
	createUser(t, s, "carol")
}

// testViewCannotWrite checks that every write inside View fails and changes
// nothing.
func testViewCannotWrite(t *testing.T, s gatepass.Store) {
	ctx := t.Context()
	alice := seed(t, s)
	before := snapshot(t, s)
	email := "new@example.com"

	tests := []struct {
		name string
		fn   func(tx gatepass.Tx) error
	}{
		{name: "create-user", fn: func(tx gatepass.Tx) error {
			return tx.CreateUser(ctx, newUser("bob"))
		}},
		{name: "update-user", fn: func(tx gatepass.Tx) error {
			return tx.UpdateUser(ctx, alice.ID, gatepass.UserUpdate{Email: &email})
		}},
		{name: "revoke-sessions", fn: func(tx gatepass.Tx) error {
			_, err := tx.RevokeSessions(ctx, alice.ID, "", now, gatepass.RevokeAdmin)
			return err
		}},
		{name: "mark-refresh-token-used", fn: func(tx gatepass.Tx) error {
			return tx.MarkRefreshTokenUsed(ctx, hash("t1"), now)
		}},
		{name: "retire-keys", fn: func(tx gatepass.Tx) error {
			return tx.RetireKeys(ctx, now)
		}},
		{name: "create-secret", fn: func(tx gatepass.Tx) error {
			return tx.CreateSecret(ctx, "other", []byte("x"))
		}},
		{name: "prune", fn: func(tx gatepass.Tx) error {
			_, err := tx.Prune(ctx, gatepass.PruneFilter{ExpiredBefore: now.AddDate(1, 0, 0)})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.View(ctx, tt.fn); err == nil {
				t.Error("View allowed a write")
			}
		})
	}
	if diff := cmp.Diff(snapshot(t, s), before); diff != "" {
		t.Errorf("store after writes in View (-got +want):\n%s", diff)
	}
}

// testConcurrentRotation checks the property refresh-token rotation relies on:
// of many transactions that each read an unused token and mark it used, exactly
// one succeeds; the others fail with ECONFLICT or see the token used. With lock,
// each transaction first locks the session, as rotation does.
func testConcurrentRotation(lock bool) func(t *testing.T, s gatepass.Store) {
	return func(t *testing.T, s gatepass.Store) {
		ctx := t.Context()
		alice := createUser(t, s, "alice")
		createSessions(t, s, newSession("s1", alice.ID))
		tok := newToken("t1", "s1")
		createTokens(t, s, tok)

		errUsed := errors.New("refresh token seen used")
		usedAt := func(i int) time.Time { return now.Add(time.Duration(i+1) * time.Second) }
		errs := make([]error, 16)
		var wg sync.WaitGroup
		for i := range errs {
			wg.Go(func() {
				errs[i] = s.Update(ctx, func(tx gatepass.Tx) error {
					if lock {
						if _, err := tx.LockSession(ctx, "s1"); err != nil {
							return err
						}
					}
					got, err := tx.FindRefreshToken(ctx, tok.Hash)
					if err != nil {
						return err
					} else if !got.UsedAt.IsZero() {
						return errUsed
					}
					return tx.MarkRefreshTokenUsed(ctx, tok.Hash, usedAt(i))
				})
			})
		}
		wg.Wait()

		winner := onlyWinner(t, errs, func(err error) bool {
			return errors.Is(err, errUsed) || gatepass.ErrorCode(err) == gatepass.ECONFLICT
		})
		tok.UsedAt = usedAt(winner)
		checkToken(t, s, tok)
	}
}

// seed stores a user with a session, a refresh token "t1", a signing key and a
// secret "cookie", and returns the user.
func seed(t *testing.T, s gatepass.Store) *gatepass.User {
	t.Helper()
	alice := createUser(t, s, "alice")
	expired := newSession("expired", alice.ID)
	expired.CreatedAt, expired.ExpiresAt = now.Add(-2*time.Hour), now.Add(-time.Hour)
	createSessions(t, s, newSession("s1", alice.ID), expired)
	createTokens(t, s, newToken("t1", "s1"))
	createKeys(t, s, newKey("k1", now))
	update(t, s, func(tx gatepass.Tx) error {
		return tx.CreateSecret(t.Context(), "cookie", []byte("secret"))
	})
	return alice
}

// writeEverything changes, creates and deletes rows of every kind in tx, on a
// store made by seed.
func writeEverything(t *testing.T, tx gatepass.Tx, userID int64) error {
	ctx := t.Context()
	email, at := "new@example.com", now.Add(time.Minute)
	steps := []func() error{
		func() error { return tx.CreateUser(ctx, newUser("bob")) },
		func() error { return tx.UpdateUser(ctx, userID, gatepass.UserUpdate{Email: &email}) },
		func() error { return tx.CreateSession(ctx, newSession("s2", userID)) },
		func() error {
			_, err := tx.RevokeSessions(ctx, userID, "", at, gatepass.RevokeAdmin)
			return err
		},
		func() error { return tx.CreateRefreshToken(ctx, newToken("t2", "s2")) },
		func() error { return tx.MarkRefreshTokenUsed(ctx, hash("t1"), at) },
		func() error { return tx.RetireKeys(ctx, at) },
		func() error { return tx.CreateKey(ctx, newKey("k2", at)) },
		func() error { return tx.CreateSecret(ctx, "other", []byte("x")) },
		func() error {
			_, err := tx.Prune(ctx, gatepass.PruneFilter{ExpiredBefore: now})
			return err
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// contents is everything a store made by seed, and changed by writeEverything,
// can hold.
type contents struct {
	Users    []*gatepass.User
	Sessions []*gatepass.Session
	Tokens   []*gatepass.RefreshToken
	Keys     []*gatepass.SigningKey
	Secrets  []string
}

// snapshot returns the contents of a store made by seed.
func snapshot(t *testing.T, s gatepass.Store) contents {
	t.Helper()
	var c contents
	view(t, s, func(tx gatepass.Tx) (err error) {
		ctx := t.Context()
		if c.Users, err = tx.FindUsers(ctx, gatepass.UserFilter{}); err != nil {
			return err
		}
		if c.Sessions, err = tx.FindSessions(ctx, gatepass.SessionFilter{}); err != nil {
			return err
		}
		if c.Keys, err = tx.FindKeys(ctx); err != nil {
			return err
		}
		for _, value := range []string{"t1", "t2"} {
			tok, err := tx.FindRefreshToken(ctx, hash(value))
			if err == nil {
				c.Tokens = append(c.Tokens, tok)
			} else if gatepass.ErrorCode(err) != gatepass.ENOTFOUND {
				return err
			}
		}
		for _, name := range []string{"cookie", "other"} {
			value, err := tx.FindSecret(ctx, name)
			if err == nil {
				c.Secrets = append(c.Secrets, name+"="+string(value))
			} else if gatepass.ErrorCode(err) != gatepass.ENOTFOUND {
				return err
			}
		}
		return nil
	})
	return c
}
