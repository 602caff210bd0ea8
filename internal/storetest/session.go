package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatepass/gatepass"
)

// testCreateSession checks that FindSessionByID and LockSession return the
// session as created.
func testCreateSession(t *testing.T, s gatepass.Store) {
	ctx := t.Context()
	alice := createUser(t, s, "alice")
	want := newSession("s1", alice.ID)
	createSessions(t, s, want)

	update(t, s, func(tx gatepass.Tx) error {
		got, err := tx.FindSessionByID(ctx, "s1")
		if err != nil {
			return err
		}
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("FindSessionByID (-got +want):\n%s", diff)
		}

		got, err = tx.LockSession(ctx, "s1")
		if err != nil {
			return err
		}
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("LockSession (-got +want):\n%s", diff)
		}
		return nil
	})
}

// testFindSessions checks the user and activity filters and the newest-first
// order.
func testFindSessions(t *testing.T, s gatepass.Store) {
	alice := createUser(t, s, "alice")
	bob := createUser(t, s, "bob")

	a1 := newSession("a1", alice.ID) // active
	a1.CreatedAt, a1.ExpiresAt = now.Add(-3*time.Hour), now.Add(time.Hour)
	a2 := newSession("a2", alice.ID) // revoked
	a2.CreatedAt, a2.RevokedAt = now.Add(-2*time.Hour), now.Add(-time.Hour)
	a2.RevokeReason = gatepass.RevokeLogout
	a3 := newSession("a3", alice.ID) // expires at now exactly
	a3.CreatedAt, a3.ExpiresAt = now.Add(-time.Hour), now
	b1 := newSession("b1", bob.ID) // active
	b1.CreatedAt, b1.ExpiresAt = now.Add(-90*time.Minute), now.Add(time.Hour)
	createSessions(t, s, a1, a2, a3, b1)

	aliceID, at := alice.ID, now
	tests := []struct {
		name   string
		filter gatepass.SessionFilter
		want   []*gatepass.Session
	}{
		{name: "all", want: []*gatepass.Session{a3, b1, a2, a1}},
		{
			name:   "user",
			filter: gatepass.SessionFilter{UserID: &aliceID},
			want:   []*gatepass.Session{a3, a2, a1},
		},
		{
			name:   "active",
			filter: gatepass.SessionFilter{ActiveAt: &at},
			want:   []*gatepass.Session{b1, a1},
		},
		{
			name:   "user-and-active",
			filter: gatepass.SessionFilter{UserID: &aliceID, ActiveAt: &at},
			want:   []*gatepass.Session{a1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			view(t, s, func(tx gatepass.Tx) error {
				got, err := tx.FindSessions(t.Context(), tt.filter)
				if err != nil {
					return err
				}
				if diff := cmp.Diff(got, tt.want); diff != "" {
					t.Errorf("FindSessions (-got +want):\n%s", diff)
				}
				return nil
			})
		})
	}

	// The sessions expected active are those Session.Active accepts: the filter
	// and the domain agree.
	for _, sess := range []*gatepass.Session{a1, a2, a3, b1} {
		want := sess == a1 || sess == b1
		if got := sess.Active(at); got != want {
			t.Errorf("session %s: Active = %v, want %v", sess.ID, got, want)
		}
	}
}

// testCountActiveSessions checks that CountActiveSessions counts the sessions
// Session.Active accepts, of every user, and agrees with FindSessions.
func testCountActiveSessions(t *testing.T, s gatepass.Store) {
	ctx := t.Context()
	alice := createUser(t, s, "alice")
	bob := createUser(t, s, "bob")
	checkActiveCount(t, s, now, 0)

	alive := newSession("alive", alice.ID)
	alive.ExpiresAt = now.Add(time.Hour)
	expired := newSession("expired", alice.ID)
	expired.CreatedAt, expired.ExpiresAt = now.Add(-3*time.Hour), now.Add(-time.Hour)
	atNow := newSession("expires-at-now", alice.ID)
	atNow.ExpiresAt = now
	revoked := newSession("revoked", alice.ID)
	revoked.RevokedAt, revoked.RevokeReason = now.Add(-time.Minute), gatepass.RevokeLogout
	bobs := newSession("bobs", bob.ID)
	bobs.ExpiresAt = now.Add(2 * time.Hour)
	createSessions(t, s, alive, expired, atNow, revoked, bobs)

	tests := []struct {
		name string
		at   time.Time
		want int64
	}{
		{name: "now", at: now, want: 2},
		{name: "before-expiry", at: now.Add(-2 * time.Hour), want: 4},
		{name: "just-before-now", at: now.Add(-time.Microsecond), want: 3},
		{name: "after-first-expiry", at: now.Add(90 * time.Minute), want: 1},
		{name: "after-every-expiry", at: now.Add(60 * 24 * time.Hour), want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkActiveCount(t, s, tt.at, tt.want)
		})
	}

	// A zero time would count nothing and look like an idle service.
	err := s.View(ctx, func(tx gatepass.Tx) error {
		_, err := tx.CountActiveSessions(ctx, time.Time{})
		return err
	})
	checkCode(t, err, gatepass.EINVALID)
}

// checkActiveCount reports an error unless CountActiveSessions at at is want,
// and as many sessions as FindSessions lists active at at.
func checkActiveCount(t *testing.T, s gatepass.Store, at time.Time, want int64) {
	t.Helper()
	ctx := t.Context()
	view(t, s, func(tx gatepass.Tx) error {
		got, err := tx.CountActiveSessions(ctx, at)
		if err != nil {
			return err
		}
		listed, err := tx.FindSessions(ctx, gatepass.SessionFilter{ActiveAt: &at})
		if err != nil {
			return err
		}
		if got != want || int64(len(listed)) != want {
			t.Errorf("CountActiveSessions at %v = %d, FindSessions lists %d, want %d",
				at, got, len(listed), want)
		}
		return nil
	})
}

// testUpdateSession checks that UpdateSession changes exactly the fields it is
// given, and that a RevokedAt of the zero time clears a revocation.
func testUpdateSession(t *testing.T, s gatepass.Store) {
	alice := createUser(t, s, "alice")
	s1, s2 := newSession("s1", alice.ID), newSession("s2", alice.ID)
	createSessions(t, s, s1, s2)
	used, revoked, zero := now.Add(time.Minute), now.Add(time.Hour), time.Time{}
	reason := gatepass.RevokeLogout

	tests := []struct {
		name string
		upd  gatepass.SessionUpdate
		want func(s *gatepass.Session)
	}{
		{
			name: "last-used-at",
			upd:  gatepass.SessionUpdate{LastUsedAt: &used},
			want: func(s *gatepass.Session) { s.LastUsedAt = used },
		},
		{
			name: "revoke",
			upd:  gatepass.SessionUpdate{RevokedAt: &revoked, RevokeReason: &reason},
			want: func(s *gatepass.Session) { s.RevokedAt, s.RevokeReason = revoked, reason },
		},
		{
			name: "no-fields",
			want: func(s *gatepass.Session) {},
		},
		{
			name: "clear-revoked-at",
			upd:  gatepass.SessionUpdate{RevokedAt: &zero},
			want: func(s *gatepass.Session) { s.RevokedAt = time.Time{} },
		},
	}
	// The cases run in order, each on the result of the one before.
	want := *s1
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			update(t, s, func(tx gatepass.Tx) error {
				return tx.UpdateSession(ctx, "s1", tt.upd)
			})
			tt.want(&want)

			checkSessions(t, s, &want, s2)
		})
	}
}

// testRevokeSessions checks that RevokeSessions revokes a user's unrevoked
// sessions but the excepted one, counts them, and leaves everything else alone.
func testRevokeSessions(t *testing.T, s gatepass.Store) {
	ctx := t.Context()
	alice := createUser(t, s, "alice")
	bob := createUser(t, s, "bob")

	current := newSession("current", alice.ID)
	other := newSession("other", alice.ID)
	expired := newSession("expired", alice.ID)
	expired.ExpiresAt = now.Add(-time.Hour)
	revoked := newSession("revoked", alice.ID)
	revoked.RevokedAt, revoked.RevokeReason = now.Add(-time.Hour), gatepass.RevokeLogout
	bobs := newSession("bobs", bob.ID)
	createSessions(t, s, current, other, expired, revoked, bobs)

	// Sign out everywhere else: the expired session counts, the revoked one keeps
	// its first revocation.
	var n int
	update(t, s, func(tx gatepass.Tx) (err error) {
		n, err = tx.RevokeSessions(ctx, alice.ID, "current", now, gatepass.RevokePassword)
		return err
	})
	if n != 2 {
		t.Errorf("RevokeSessions = %d, want 2", n)
	}
	other.RevokedAt, other.RevokeReason = now, gatepass.RevokePassword
	expired.RevokedAt, expired.RevokeReason = now, gatepass.RevokePassword
	checkSessions(t, s, current, other, expired, revoked, bobs)

	// Sign out everywhere, then once more with nothing left to revoke.
	later := now.Add(time.Minute)
	for _, want := range []int{1, 0} {
		update(t, s, func(tx gatepass.Tx) (err error) {
			n, err = tx.RevokeSessions(ctx, alice.ID, "", later, gatepass.RevokeAdmin)
			return err
		})
		if n != want {
			t.Errorf("RevokeSessions = %d, want %d", n, want)
		}
	}
	current.RevokedAt, current.RevokeReason = later, gatepass.RevokeAdmin
	checkSessions(t, s, current, other, expired, revoked, bobs)

	// A zero time would record no revocation at all.
	err := s.Update(ctx, func(tx gatepass.Tx) error {
		_, err := tx.RevokeSessions(ctx, bob.ID, "", time.Time{}, gatepass.RevokeAdmin)
		return err
	})
	checkCode(t, err, gatepass.EINVALID)
	checkSessions(t, s, bobs)
}

// checkSessions reports an error unless each of want is stored as it is.
func checkSessions(t *testing.T, s gatepass.Store, want ...*gatepass.Session) {
	t.Helper()
	view(t, s, func(tx gatepass.Tx) error {
		for _, w := range want {
			got, err := tx.FindSessionByID(t.Context(), w.ID)
			if err != nil {
				return err
			}
			if diff := cmp.Diff(got, w); diff != "" {
				t.Errorf("session %s (-got +want):\n%s", w.ID, diff)
			}
		}
		return nil
	})
}
