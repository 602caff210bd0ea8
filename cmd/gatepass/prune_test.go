package main_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/sqlite"
)

// TestPrune_auditRetention checks that prune deletes the audit events older
// than --audit-retention, from the flag or the environment, and that 0 keeps
// them all.
func TestPrune_auditRetention(t *testing.T) {
	p := NewProgram(t)
	p.MustRun(t, "", "migrate")
	now := time.Now()
	addEvents(t, p.DB, now.AddDate(0, 0, -100), now.AddDate(0, 0, -100),
		now.AddDate(0, 0, -95), now.AddDate(0, 0, -10))

	steps := []struct {
		name   string
		env    string // GATEPASS_AUDIT_RETENTION
		args   []string
		events int // how many prune deletes
	}{
		{name: "forever", args: []string{"--audit-retention", "0"}, events: 0},
		{name: "env", env: "2352h", events: 2}, // 98 days
		{name: "default", events: 1},           // 90 days
		{name: "flag", env: "0", args: []string{"--audit-retention", "120h"}, events: 1},
	}
	for _, s := range steps {
		p.Env["GATEPASS_AUDIT_RETENTION"] = s.env
		out := p.MustRun(t, "", append([]string{"prune"}, s.args...)...)
		want := fmt.Sprintf(", %d audit events\n", s.events)
		if !strings.HasSuffix(out, want) {
			t.Errorf("%s: prune printed %q, want it to end %q", s.name, out, want)
		}
	}

	p.Env["GATEPASS_AUDIT_RETENTION"] = ""
	r := p.Run("", "prune", "--audit-retention", "-1h")
	if r.Err == nil || !strings.Contains(r.Stderr+r.Err.Error(), "audit-retention") {
		t.Errorf("prune with a negative retention: err = %v, stderr %q", r.Err, r.Stderr)
	}
}

// addEvents writes one failed sign-in to the database file at path for each
// time in times.
func addEvents(tb testing.TB, path string, times ...time.Time) {
	tb.Helper()
	db := sqlite.NewDB(path)
	db.Logger = slog.New(slog.DiscardHandler)
	if err := db.Open(context.Background()); err != nil {
		tb.Fatal(err)
	}
	defer db.Close()

	err := db.Update(context.Background(), func(tx gatepass.Tx) error {
		for _, at := range times {
			e := &gatepass.AuditEvent{OccurredAt: at, Kind: gatepass.AuditSignInFailed}
			if err := tx.CreateAuditEvent(context.Background(), e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}
