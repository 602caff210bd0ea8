package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatepass/gatepass"
)

// newEvent returns an unsaved audit event of kind that occurred at.
func newEvent(kind string, at time.Time, userID int64, sessionID string) *gatepass.AuditEvent {
	return &gatepass.AuditEvent{
		OccurredAt: at,
		Kind:       kind,
		UserID:     userID,
		Username:   "alice",
		SessionID:  sessionID,
		ClientIP:   "192.0.2.10",
		UserAgent:  "Mozilla/5.0 (X11; Linux x86_64)",
		Reason:     "wrong_password",
		Detail:     "kid=k1 alg=ES256",
	}
}

// createEvents stores audit events.
func createEvents(t *testing.T, s gatepass.Store, events ...*gatepass.AuditEvent) {
	t.Helper()
	update(t, s, func(tx gatepass.Tx) error {
		for _, e := range events {
			if err := tx.CreateAuditEvent(t.Context(), e); err != nil {
				return err
			}
		}
		return nil
	})
}

// findEvents returns the events filter selects.
func findEvents(t *testing.T, s gatepass.Store,
	filter gatepass.AuditFilter) []*gatepass.AuditEvent {
	t.Helper()
	var events []*gatepass.AuditEvent
	view(t, s, func(tx gatepass.Tx) error {
		var err error
		events, err = tx.FindAuditEvents(t.Context(), filter)
		return err
	})
	return events
}

// testCreateAuditEvent checks that an event reads back as written, with an ID,
// that an event without a user or session reads back without them, and that
// an event with no time or no kind is refused.
func testCreateAuditEvent(t *testing.T, s gatepass.Store) {
	ctx := t.Context()
	full := newEvent(gatepass.AuditSignInFailed, now, 7, "s1")
	bare := &gatepass.AuditEvent{OccurredAt: now.Add(time.Second),
		Kind: gatepass.AuditKeyRotated}
	createEvents(t, s, full, bare)
	if full.ID == 0 || bare.ID == 0 || full.ID == bare.ID {
		t.Errorf("IDs = %d, %d; want two distinct non-zero IDs", full.ID, bare.ID)
	}

	got := findEvents(t, s, gatepass.AuditFilter{})
	want := []*gatepass.AuditEvent{bare, full}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("FindAuditEvents (-got +want):\n%s", diff)
	}

	tests := []struct {
		name  string
		event *gatepass.AuditEvent
	}{
		{name: "zero-time", event: newEvent(gatepass.AuditSignIn, time.Time{}, 7, "")},
		{name: "no-kind", event: newEvent("", now, 7, "")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Update(ctx, func(tx gatepass.Tx) error {
				return tx.CreateAuditEvent(ctx, tt.event)
			})
			checkCode(t, err, gatepass.EINVALID)
		})
	}
	if n := len(findEvents(t, s, gatepass.AuditFilter{})); n != 2 {
		t.Errorf("%d events after refused writes, want 2", n)
	}
}

// testFindAuditEvents checks the filter: by user, since a time (inclusive), the
// newest n, and all of them together, always newest first. Events of the same
// microsecond come newest written first.
func testFindAuditEvents(t *testing.T, s gatepass.Store) {
	first := newEvent(gatepass.AuditSignIn, now, 1, "s1")
	second := newEvent(gatepass.AuditSignInFailed, now.Add(time.Minute), 0, "")
	third := newEvent(gatepass.AuditRefresh, now.Add(2*time.Minute), 1, "s1")
	tie := newEvent(gatepass.AuditSessionRevoked, now.Add(2*time.Minute), 2, "s2")
	fourth := newEvent(gatepass.AuditUserDisabled, now.Add(time.Hour), 1, "")
	createEvents(t, s, first, second, third)
	createEvents(t, s, tie, fourth)

	alice, bob, nobody := int64(1), int64(2), int64(99)
	since := now.Add(time.Minute)
	tests := []struct {
		name   string
		filter gatepass.AuditFilter
		want   []*gatepass.AuditEvent
	}{
		{name: "all", filter: gatepass.AuditFilter{},
			want: []*gatepass.AuditEvent{fourth, tie, third, second, first}},
		{name: "user", filter: gatepass.AuditFilter{UserID: &alice},
			want: []*gatepass.AuditEvent{fourth, third, first}},
		{name: "other-user", filter: gatepass.AuditFilter{UserID: &bob},
			want: []*gatepass.AuditEvent{tie}},
		{name: "since-inclusive", filter: gatepass.AuditFilter{Since: &since},
			want: []*gatepass.AuditEvent{fourth, tie, third, second}},
		{name: "limit-keeps-newest", filter: gatepass.AuditFilter{Limit: 2},
			want: []*gatepass.AuditEvent{fourth, tie}},
		{name: "all-together",
			filter: gatepass.AuditFilter{UserID: &alice, Since: &since, Limit: 1},
			want:   []*gatepass.AuditEvent{fourth}},
		{name: "no-match", filter: gatepass.AuditFilter{UserID: &nobody},
			want: []*gatepass.AuditEvent{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := findEvents(t, s, tt.filter)
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("FindAuditEvents (-got +want):\n%s", diff)
			}
		})
	}
}

// testAuditEventRollsBack checks that an event written in a transaction that
// fails is gone with the rest of it: the trail can only record what happened.
func testAuditEventRollsBack(t *testing.T, s gatepass.Store) {
	ctx := t.Context()
	alice := createUser(t, s, "alice")

	errBoom := errors.New("boom")
	err := s.Update(ctx, func(tx gatepass.Tx) error {
		if err := tx.CreateSession(ctx, newSession("s1", alice.ID)); err != nil {
			return err
		}
		e := newEvent(gatepass.AuditSignIn, now, alice.ID, "s1")
		if err := tx.CreateAuditEvent(ctx, e); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Errorf("Update error = %v, want fn's error", err)
	}
	if got := findEvents(t, s, gatepass.AuditFilter{}); len(got) != 0 {
		t.Errorf("FindAuditEvents after a failed Update = %d events, want none", len(got))
	}

	err = s.View(ctx, func(tx gatepass.Tx) error {
		return tx.CreateAuditEvent(ctx, newEvent(gatepass.AuditSignIn, now, alice.ID, ""))
	})
	if err == nil {
		t.Error("CreateAuditEvent in View succeeded")
	}
}

// testAuditOutlivesPrune checks that pruning every session, token and key
// leaves the events about them alone.
func testAuditOutlivesPrune(t *testing.T, s gatepass.Store) {
	alice := createUser(t, s, "alice")
	sess := newSession("s1", alice.ID)
	sess.ExpiresAt = now.Add(time.Minute)
	createSessions(t, s, sess)
	e := newEvent(gatepass.AuditSignIn, now, alice.ID, "s1")
	createEvents(t, s, e)

	later := now.Add(time.Hour)
	update(t, s, func(tx gatepass.Tx) error {
		_, err := tx.Prune(t.Context(), gatepass.PruneFilter{ExpiredBefore: later,
			RevokedBefore: later, KeysRetiredBefore: later})
		return err
	})
	got := findEvents(t, s, gatepass.AuditFilter{})
	if diff := cmp.Diff(got, []*gatepass.AuditEvent{e}); diff != "" {
		t.Errorf("events after Prune (-got +want):\n%s", diff)
	}
}

// AuditAppendOnly checks that the database itself refuses to change audit
// events, and to delete them except as Prune does, whatever the code above it
// does. exec runs one SQL statement on s's database outside the storage
// contract, as a bug or an injected statement would; execPruning runs one in a
// transaction that first takes the permission Prune takes to delete the events
// before cutoff, and gives it up again before committing. Each engine passes its
// own; the statements are plain SQL both engines speak.
func AuditAppendOnly(t *testing.T, s gatepass.Store,
	exec func(ctx context.Context, query string) error,
	execPruning func(ctx context.Context, cutoff time.Time, query string) error) {
	ctx := t.Context()
	ancient := newEvent(gatepass.AuditSignIn, now.Add(-3*time.Hour), 1, "s1")
	old := newEvent(gatepass.AuditRefresh, now.Add(-time.Hour), 1, "s1")
	e := newEvent(gatepass.AuditSignIn, now, 1, "s1")
	createEvents(t, s, ancient, old, e)

	// A real prune first: what it allows must not outlive its transaction.
	r := prune(t, s, gatepass.PruneFilter{AuditBefore: now.Add(-2 * time.Hour)})
	if r.AuditEvents != 1 {
		t.Fatalf("Prune deleted %d events, want 1", r.AuditEvents)
	}

	// With a cutoff set the statement runs as in a pruning transaction.
	cutoff := now.Add(-30 * time.Minute)
	tests := []struct {
		name   string
		query  string
		cutoff time.Time
	}{
		{name: "update", query: `UPDATE audit_events SET reason = 'nothing to see'`},
		{name: "update-one", query: `UPDATE audit_events SET user_id = 2 WHERE kind = 'sign_in'`},
		{name: "delete", query: `DELETE FROM audit_events WHERE kind = 'sign_in'`},
		{name: "delete-old", query: `DELETE FROM audit_events WHERE kind = 'refresh'`},
		{name: "delete-all", query: `DELETE FROM audit_events`},
		{name: "update-old-pruning", cutoff: cutoff,
			query: `UPDATE audit_events SET reason = 'x' WHERE kind = 'refresh'`},
		{name: "delete-newer-pruning", cutoff: cutoff,
			query: `DELETE FROM audit_events WHERE kind = 'sign_in'`},
		{name: "delete-at-cutoff-pruning", cutoff: now,
			query: `DELETE FROM audit_events WHERE kind = 'sign_in'`},
		{name: "delete-all-pruning", cutoff: cutoff, query: `DELETE FROM audit_events`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.cutoff.IsZero() {
				err = exec(ctx, tt.query)
			} else {
				err = execPruning(ctx, tt.cutoff, tt.query)
			}
			if err == nil {
				t.Errorf("%s succeeded, want it refused", tt.query)
			}
			got := findEvents(t, s, gatepass.AuditFilter{})
			if diff := cmp.Diff(got, []*gatepass.AuditEvent{e, old}); diff != "" {
				t.Errorf("events after %s (-got +want):\n%s", tt.query, diff)
			}
		})
	}

	// With the permission, the events before the cutoff can go; the check above
	// refused the newer ones, not the mechanism.
	err := execPruning(ctx, cutoff, `DELETE FROM audit_events WHERE kind = 'refresh'`)
	if err != nil {
		t.Errorf("delete of an event before the cutoff: %v", err)
	}
	left := findEvents(t, s, gatepass.AuditFilter{})
	if diff := cmp.Diff(left, []*gatepass.AuditEvent{e}); diff != "" {
		t.Errorf("events after pruning by hand (-got +want):\n%s", diff)
	}

	// Appending still works.
	createEvents(t, s, newEvent(gatepass.AuditRefresh, now, 1, "s1"))
}
