package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatepass/gatepass"
	"github.com/google/go-cmp/cmp"
)

// testLockRefreshToken checks that LockRefreshToken returns the token with its
// own session and user, not another's, and ENOTFOUND for an unknown token.
func testLockRefreshToken(t *testing.T, s gatepass.Store) {
	ctx := t.Context()
	alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")
	s1, s2 := newSession("s1", alice.ID), newSession("s2", bob.ID)
	createSessions(t, s, s1, s2)
	t1, t2 := newToken("t1", "s1"), newToken("t2", "s2")
	createTokens(t, s, t1, t2)

	update(t, s, func(tx gatepass.Tx) error {
		tok, sess, u, err := tx.LockRefreshToken(ctx, t2.Hash)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(tok, t2); diff != "" {
			t.Errorf("token (-got +want):\n%s", diff)
		}
		if diff := cmp.Diff(sess, s2); diff != "" {
			t.Errorf("session (-got +want):\n%s", diff)
		}
		if diff := cmp.Diff(u, bob); diff != "" {
			t.Errorf("user (-got +want):\n%s", diff)
		}
		return nil
	})

	err := s.Update(ctx, func(tx gatepass.Tx) error {
		_, _, _, err := tx.LockRefreshToken(ctx, hash("unknown"))
		return err
	})
	checkCode(t, err, gatepass.ENOTFOUND)
}

// testConcurrentLockRefreshToken races rotations that each lock with
// LockRefreshToken and rotate only a token it returns unused. Exactly one
// rotates; every other must see the token used. A rotation refused with
// ECONFLICT would mean LockRefreshToken returned the token as it was before a
// rotation that committed while it waited for the lock.
func testConcurrentLockRefreshToken(t *testing.T, s gatepass.Store) {
	ctx := t.Context()
	alice := createUser(t, s, "alice")
	createSessions(t, s, newSession("s1", alice.ID))
	tok := newToken("t1", "s1")
	createTokens(t, s, tok)

	errUsed := errors.New("refresh token seen used")
	next := make([]*gatepass.RefreshToken, 16)
	errs := make([]error, len(next))
	var wg sync.WaitGroup
	for i := range next {
		next[i] = successorOf(fmt.Sprintf("next-%d", i), "s1",
			now.Add(time.Duration(i+1)*time.Second))
		next[i].Generation = tok.Generation + 1
		wg.Go(func() {
			errs[i] = s.Update(ctx, func(tx gatepass.Tx) error {
				got, _, _, err := tx.LockRefreshToken(ctx, tok.Hash)
				if err != nil {
					return err
				} else if !got.UsedAt.IsZero() {
					return errUsed
				}
				return tx.RotateRefreshToken(ctx, tok.Hash, next[i])
			})
		})
	}
	wg.Wait()

	winner := onlyWinner(t, errs, func(err error) bool { return errors.Is(err, errUsed) })
	tok.UsedAt = next[winner].CreatedAt
	checkToken(t, s, tok)
	checkToken(t, s, next[winner])
}

// testLockedRotationConflict rotates, under its session's lock, a token that the
// same transaction has already marked used. An engine may send such a rotation
// only with the commit, so the conflict may surface there; either way it must
// be ECONFLICT, and nothing of the transaction may be kept: not the mark, not
// a successor, not the session's last use.
func testLockedRotationConflict(t *testing.T, s gatepass.Store) {
	ctx := t.Context()
	alice := createUser(t, s, "alice")
	sess := newSession("s1", alice.ID)
	createSessions(t, s, sess)
	tok := newToken("t1", "s1")
	createTokens(t, s, tok)
	next := successorOf("t2", "s1", now.Add(time.Minute))
	next.Generation = tok.Generation + 1

	err := s.Update(ctx, func(tx gatepass.Tx) error {
		if _, _, _, err := tx.LockRefreshToken(ctx, tok.Hash); err != nil {
			return err
		}
		if err := tx.MarkRefreshTokenUsed(ctx, tok.Hash, now); err != nil {
			return err
		}
		return tx.RotateRefreshToken(ctx, tok.Hash, next)
	})
	checkCode(t, err, gatepass.ECONFLICT)

	checkToken(t, s, tok)
	checkSessions(t, s, sess)
	err = s.View(ctx, func(tx gatepass.Tx) error {
		_, err := tx.FindRefreshToken(ctx, next.Hash)
		return err
	})
	checkCode(t, err, gatepass.ENOTFOUND)
}
