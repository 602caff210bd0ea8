package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatepass/gatepass"
)

// testFindSessionsRevokedSince checks that FindSessionsRevokedSince lists exactly
// the sessions revoked at or after its bound, whoever they belong to, oldest
// first and to the microsecond, and sees a revocation made earlier in the same
// transaction.
func testFindSessionsRevokedSince(t *testing.T, s gatepass.Store) {
	ctx := t.Context()
	alice := createUser(t, s, "alice")
	bob := createUser(t, s, "bob")

	revoked := func(id string, userID int64, at time.Time) *gatepass.Session {
		sess := newSession(id, userID)
		sess.RevokedAt, sess.RevokeReason = at, gatepass.RevokeLogout
		return sess
	}
	createSessions(t, s,
		newSession("alive", alice.ID),
		revoked("hour-ago", alice.ID, now.Add(-time.Hour)),
		revoked("just-before", alice.ID, now.Add(-time.Microsecond)),
		revoked("at-bound-b", bob.ID, now),
		revoked("at-bound-a", alice.ID, now),
		revoked("later", alice.ID, now.Add(time.Minute+time.Microsecond)),
	)

	tests := []struct {
		name  string
		since time.Time
		want  []gatepass.RevokedSession
	}{
		{
			name:  "bound-is-inclusive",
			since: now,
			want: []gatepass.RevokedSession{
				{ID: "at-bound-a", RevokedAt: now},
				{ID: "at-bound-b", RevokedAt: now},
				{ID: "later", RevokedAt: now.Add(time.Minute + time.Microsecond)},
			},
		},
		{
			name:  "one-microsecond-earlier",
			since: now.Add(-time.Microsecond),
			want: []gatepass.RevokedSession{
				{ID: "just-before", RevokedAt: now.Add(-time.Microsecond)},
				{ID: "at-bound-a", RevokedAt: now},
				{ID: "at-bound-b", RevokedAt: now},
				{ID: "later", RevokedAt: now.Add(time.Minute + time.Microsecond)},
			},
		},
		{
			name:  "bound-in-another-zone",
			since: now.Add(time.Minute).In(time.FixedZone("IST", 5*3600+1800)),
			want: []gatepass.RevokedSession{
				{ID: "later", RevokedAt: now.Add(time.Minute + time.Microsecond)},
			},
		},
		{
			name:  "nothing-since",
			since: now.Add(time.Hour),
			want:  []gatepass.RevokedSession{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := findRevokedSince(t, s, tt.since)
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("FindSessionsRevokedSince (-got +want):\n%s", diff)
			}
			for _, r := range got {
				if r.RevokedAt.Location() != time.UTC {
					t.Errorf("%s: RevokedAt location = %v, want UTC", r.ID,
						r.RevokedAt.Location())
				}
			}
		})
	}

	// A revocation is listed by the transaction that made it, before it commits.
	later := now.Add(2 * time.Minute)
	var got []gatepass.RevokedSession
	update(t, s, func(tx gatepass.Tx) error {
		if _, err := tx.RevokeSessions(ctx, alice.ID, "", later,
			gatepass.RevokePassword); err != nil {
			return err
		}
		var err error
		got, err = tx.FindSessionsRevokedSince(ctx, later)
		return err
	})
	want := []gatepass.RevokedSession{{ID: "alive", RevokedAt: later}}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("FindSessionsRevokedSince in the revoking transaction (-got +want):\n%s",
			diff)
	}

	// A zero bound would list every revocation ever made.
	err := s.View(ctx, func(tx gatepass.Tx) error {
		_, err := tx.FindSessionsRevokedSince(ctx, time.Time{})
		return err
	})
	checkCode(t, err, gatepass.EINVALID)
}

// findRevokedSince runs FindSessionsRevokedSince in a View transaction.
func findRevokedSince(t *testing.T, s gatepass.Store,
	since time.Time) []gatepass.RevokedSession {
	t.Helper()
	var got []gatepass.RevokedSession
	view(t, s, func(tx gatepass.Tx) error {
		var err error
		got, err = tx.FindSessionsRevokedSince(t.Context(), since)
		return err
	})
	return got
}
