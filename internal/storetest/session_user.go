package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatepass/gatepass"
)

// testFindSessionWithUser checks that FindSessionWithUser pairs each session
// with its own user, and that it reads what was last committed: a revocation
// and a disabled account, the two changes a per-request check exists to see.
func testFindSessionWithUser(t *testing.T, s gatepass.Store) {
	ctx := t.Context()
	alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")
	s1, s2 := newSession("s1", alice.ID), newSession("s2", bob.ID)
	createSessions(t, s, s1, s2)
	checkSessionWithUser(t, s, s1, alice)
	checkSessionWithUser(t, s, s2, bob)

	revoked, disabled := now.Add(time.Minute), true
	reason := gatepass.RevokeLogout
	update(t, s, func(tx gatepass.Tx) error {
		upd := gatepass.SessionUpdate{RevokedAt: &revoked, RevokeReason: &reason}
		if err := tx.UpdateSession(ctx, "s1", upd); err != nil {
			return err
		}
		return tx.UpdateUser(ctx, bob.ID, gatepass.UserUpdate{Disabled: &disabled})
	})
	s1.RevokedAt, s1.RevokeReason, bob.Disabled = revoked, reason, true
	checkSessionWithUser(t, s, s1, alice)
	checkSessionWithUser(t, s, s2, bob)

	_, _, err := s.FindSessionWithUser(ctx, "unknown")
	checkCode(t, err, gatepass.ENOTFOUND)
}

// checkSessionWithUser checks that FindSessionWithUser returns want and its
// user wantUser.
func checkSessionWithUser(t *testing.T, s gatepass.Store, want *gatepass.Session,
	wantUser *gatepass.User) {
	t.Helper()
	sess, u, err := s.FindSessionWithUser(t.Context(), want.ID)
	if err != nil {
		t.Fatalf("FindSessionWithUser(%q): %v", want.ID, err)
	}
	if diff := cmp.Diff(sess, want); diff != "" {
		t.Errorf("session %s (-got +want):\n%s", want.ID, diff)
	}
	if diff := cmp.Diff(u, wantUser); diff != "" {
		t.Errorf("user of session %s (-got +want):\n%s", want.ID, diff)
	}
}
