package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatepass/gatepass"
)

// testPruneAudit checks the AuditBefore rule: events that occurred before it go,
// oldest first whatever order they were written in, at most Limit per call;
// an event at the cutoff and later ones stay.
func testPruneAudit(t *testing.T, s gatepass.Store) {
	third := newEvent(gatepass.AuditRefresh, now.Add(-time.Hour), 1, "s1")
	first := newEvent(gatepass.AuditSignIn, now.Add(-3*time.Hour), 1, "s1")
	edge := newEvent(gatepass.AuditRefresh, now, 1, "s1")
	second := newEvent(gatepass.AuditSignInFailed, now.Add(-2*time.Hour), 0, "")
	later := newEvent(gatepass.AuditSessionRevoked, now.Add(time.Minute), 1, "s1")
	createEvents(t, s, third, first, edge)
	createEvents(t, s, second, later)

	filter := gatepass.PruneFilter{AuditBefore: now, Limit: 2}
	got := prune(t, s, filter)
	if diff := cmp.Diff(got, gatepass.PruneResult{AuditEvents: 2}); diff != "" {
		t.Errorf("first Prune (-got +want):\n%s", diff)
	}
	left := findEvents(t, s, gatepass.AuditFilter{})
	want := []*gatepass.AuditEvent{later, edge, third}
	if diff := cmp.Diff(left, want); diff != "" {
		t.Errorf("events after the first Prune (-got +want):\n%s", diff)
	}

	var results []gatepass.PruneResult
	for range 2 {
		results = append(results, prune(t, s, filter))
	}
	if diff := cmp.Diff(results, []gatepass.PruneResult{{AuditEvents: 1}, {}}); diff != "" {
		t.Errorf("later Prunes (-got +want):\n%s", diff)
	}
	left = findEvents(t, s, gatepass.AuditFilter{})
	if diff := cmp.Diff(left, []*gatepass.AuditEvent{later, edge}); diff != "" {
		t.Errorf("events after the last Prune (-got +want):\n%s", diff)
	}

	// Appending still works in and after a pruning transaction.
	update(t, s, func(tx gatepass.Tx) error {
		if _, err := tx.Prune(t.Context(), filter); err != nil {
			return err
		}
		return tx.CreateAuditEvent(t.Context(), newEvent(gatepass.AuditSignIn, now, 1, ""))
	})
	if n := len(findEvents(t, s, gatepass.AuditFilter{})); n != 3 {
		t.Errorf("%d events after appending, want 3", n)
	}
}

// testPruneAuditUnlimited checks that without a Limit one call deletes every
// event before the cutoff.
func testPruneAuditUnlimited(t *testing.T, s gatepass.Store) {
	var events []*gatepass.AuditEvent
	for i := range 5 {
		at := now.Add(-time.Duration(i+1) * time.Minute)
		events = append(events, newEvent(gatepass.AuditRefresh, at, 1, "s1"))
	}
	kept := newEvent(gatepass.AuditRefresh, now, 1, "s1")
	createEvents(t, s, append(events, kept)...)

	got := prune(t, s, gatepass.PruneFilter{AuditBefore: now})
	if diff := cmp.Diff(got, gatepass.PruneResult{AuditEvents: 5}); diff != "" {
		t.Errorf("Prune (-got +want):\n%s", diff)
	}
	left := findEvents(t, s, gatepass.AuditFilter{})
	if diff := cmp.Diff(left, []*gatepass.AuditEvent{kept}); diff != "" {
		t.Errorf("events after Prune (-got +want):\n%s", diff)
	}
}

// testPruneAuditZero checks that a zero AuditBefore deletes no event, however
// old, while the other rules still run.
func testPruneAuditZero(t *testing.T, s gatepass.Store) {
	old := newEvent(gatepass.AuditSignIn, now.AddDate(-10, 0, 0), 1, "s1")
	createEvents(t, s, old)

	later := now.AddDate(1, 0, 0)
	filter := gatepass.PruneFilter{ExpiredBefore: later, RevokedBefore: later,
		KeysRetiredBefore: later, Limit: 1}
	if diff := cmp.Diff(prune(t, s, filter), gatepass.PruneResult{}); diff != "" {
		t.Errorf("Prune (-got +want):\n%s", diff)
	}
	left := findEvents(t, s, gatepass.AuditFilter{})
	if diff := cmp.Diff(left, []*gatepass.AuditEvent{old}); diff != "" {
		t.Errorf("events after Prune (-got +want):\n%s", diff)
	}
}
