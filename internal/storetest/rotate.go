package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatepass/gatepass"
)

// testRotateRefreshToken checks that a rotation marks the token used, stores
// its successor and touches the session, and that a refused rotation, rolled
// back, leaves all three as they were.
func testRotateRefreshToken(t *testing.T, s gatepass.Store) {
	ctx := t.Context()
	alice := createUser(t, s, "alice")
	s1, s2 := newSession("s1", alice.ID), newSession("s2", alice.ID)
	createSessions(t, s, s1, s2)
	first := newToken("first", "s1")
	createTokens(t, s, first)

	used := now.Add(time.Minute)
	second := newToken("second", "s1")
	second.CreatedAt = used
	update(t, s, func(tx gatepass.Tx) error {
		return tx.RotateRefreshToken(ctx, first.Hash, second)
	})
	first.UsedAt, s1.LastUsedAt = used, used
	checkToken(t, s, first)
	checkToken(t, s, second)
	checkSessions(t, s, s1, s2)

	later := used.Add(time.Minute)
	tests := []struct {
		name string
		hash []byte
		next *gatepass.RefreshToken
		want string
	}{
		{name: "already-used", hash: first.Hash, next: successorOf("again", "s1", later),
			want: gatepass.ECONFLICT},
		{name: "unknown-token", hash: hash("unknown"),
			next: successorOf("unknown-next", "s1", later), want: gatepass.ENOTFOUND},
		{name: "zero-time", hash: second.Hash,
			next: successorOf("zero", "s1", time.Time{}), want: gatepass.EINVALID},
		{name: "other-session", hash: second.Hash,
			next: successorOf("elsewhere", "s2", later), want: gatepass.EINVALID},
		{name: "successor-exists", hash: second.Hash,
			next: &gatepass.RefreshToken{Hash: first.Hash, SessionID: "s1",
				Generation: generations.Add(1), CreatedAt: later,
				ExpiresAt: later.Add(time.Hour)}, want: gatepass.ECONFLICT},
		{name: "generation-exists", hash: second.Hash,
			next: &gatepass.RefreshToken{Hash: hash("fork"), SessionID: "s1",
				Generation: first.Generation, CreatedAt: later,
				ExpiresAt: later.Add(time.Hour)}, want: gatepass.ECONFLICT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := s.Update(ctx, func(tx gatepass.Tx) error {
				return tx.RotateRefreshToken(ctx, tt.hash, tt.next)
			})
			checkCode(t, got, tt.want)
			checkToken(t, s, first)
			checkToken(t, s, second)
			checkSessions(t, s, s1, s2)
			if string(tt.next.Hash) != string(first.Hash) { // the successor was not stored
				view(t, s, func(tx gatepass.Tx) error {
					_, err := tx.FindRefreshToken(ctx, tt.next.Hash)
					checkCode(t, err, gatepass.ENOTFOUND)
					return nil
				})
			}
		})
	}
}

// successorOf returns an unsaved token created at at.
func successorOf(value, sessionID string, at time.Time) *gatepass.RefreshToken {
	tok := newToken(value, sessionID)
	tok.CreatedAt, tok.ExpiresAt = at, at.Add(time.Hour)
	return tok
}

// testConcurrentRotateRefreshToken races rotations of one token, with and
// without the session lock auth takes: exactly one succeeds, and only its
// successor is stored.
func testConcurrentRotateRefreshToken(lock bool) func(t *testing.T, s gatepass.Store) {
	return func(t *testing.T, s gatepass.Store) {
		ctx := t.Context()
		alice := createUser(t, s, "alice")
		sess := newSession("s1", alice.ID)
		createSessions(t, s, sess)
		tok := newToken("t1", "s1")
		createTokens(t, s, tok)

		// Every successor has the next generation, as auth derives them.
		next := make([]*gatepass.RefreshToken, 16)
		errs := make([]error, len(next))
		var wg sync.WaitGroup
		for i := range next {
			next[i] = successorOf(fmt.Sprintf("next-%d", i), "s1",
				now.Add(time.Duration(i+1)*time.Second))
			next[i].Generation = tok.Generation + 1
			wg.Go(func() {
				errs[i] = s.Update(ctx, func(tx gatepass.Tx) error {
					if lock {
						if _, err := tx.LockSession(ctx, "s1"); err != nil {
							return err
						}
					}
					return tx.RotateRefreshToken(ctx, tok.Hash, next[i])
				})
			})
		}
		wg.Wait()

		winner := onlyWinner(t, errs, func(err error) bool {
			return gatepass.ErrorCode(err) == gatepass.ECONFLICT
		})
		tok.UsedAt = next[winner].CreatedAt
		sess.LastUsedAt = next[winner].CreatedAt
		checkToken(t, s, tok)
		checkToken(t, s, next[winner])
		checkSessions(t, s, sess)
		view(t, s, func(tx gatepass.Tx) error {
			for i, n := range next {
				if _, err := tx.FindRefreshToken(ctx, n.Hash); i != winner {
					checkCode(t, err, gatepass.ENOTFOUND)
				}
			}
			return nil
		})
	}
}

// onlyWinner returns the index of the one nil error among the outcomes of
// racing rotations, and fails the test if there is not exactly one or if a
// loser's error is not one lost allows.
func onlyWinner(t *testing.T, errs []error, lost func(error) bool) int {
	t.Helper()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("rotations %d and %d both succeeded", winner, i)
		case err == nil:
			winner = i
		case !lost(err):
			t.Errorf("rotation %d: %v", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no rotation succeeded")
	}
	return winner
}
