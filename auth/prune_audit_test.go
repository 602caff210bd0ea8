package auth_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/auth"
)

// TestPrune_auditRetention checks that Prune deletes the audit events older
// than the retention and keeps the newer ones, and that retention 0 keeps all.
func TestPrune_auditRetention(t *testing.T) {
	tests := []struct {
		name      string
		retention time.Duration
		wantKinds []string // of the events left, oldest first
	}{
		{name: "default", retention: auth.DefaultConfig().AuditRetention,
			wantKinds: []string{gatepass.AuditSignIn, gatepass.AuditSignIn}},
		{name: "forever", retention: 0, wantKinds: []string{gatepass.AuditKeyCreated,
			gatepass.AuditUserCreated, gatepass.AuditSignIn, gatepass.AuditSignIn,
			gatepass.AuditSignIn}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := MustOpenEnv(t, func(c *auth.Config) { c.AuditRetention = tt.retention })
			env.MustCreateUser(t, "alice")
			env.MustLogin(t, "alice")
			env.Clock.Advance(80 * 24 * time.Hour)
			env.MustLogin(t, "alice")
			env.Clock.Advance(15 * 24 * time.Hour)
			env.MustLogin(t, "alice")

			r, err := env.Service.Prune(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			wantDeleted := 5 - len(tt.wantKinds)
			if r.AuditEvents != wantDeleted {
				t.Errorf("pruned %d audit events, want %d", r.AuditEvents, wantDeleted)
			}
			var kinds []string
			for _, e := range mustFindEvents(t, env, gatepass.AuditFilter{}) {
				kinds = append(kinds, e.Kind)
			}
			if diff := cmp.Diff(kinds, tt.wantKinds); diff != "" {
				t.Errorf("events left (-got +want):\n%s", diff)
			}
		})
	}
}

// TestPrune_auditManyBatches checks that a backlog of events larger than one
// batch is cleared in full by one call.
func TestPrune_auditManyBatches(t *testing.T) {
	env := MustOpenEnv(t, func(c *auth.Config) { c.AuditRetention = time.Hour })
	ctx := context.Background()

	const n = 1234
	start := env.Clock.Now()
	err := env.Store.Update(ctx, func(tx gatepass.Tx) error {
		for i := range n {
			e := &gatepass.AuditEvent{OccurredAt: start.Add(time.Duration(i) * time.Second),
				Kind: gatepass.AuditSignInFailed, Username: fmt.Sprint("user-", i)}
			if err := tx.CreateAuditEvent(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(2 * time.Hour)
	env.MustCreateUser(t, "alice")

	r, err := env.Service.Prune(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r.AuditEvents != n+1 { // and the key created at Open
		t.Errorf("pruned %d audit events, want %d", r.AuditEvents, n+1)
	}
	left := mustFindEvents(t, env, gatepass.AuditFilter{})
	if len(left) != 1 || left[0].Kind != gatepass.AuditUserCreated {
		t.Errorf("%d events left, want only the user's creation", len(left))
	}
}

func TestConfigValidate_auditRetention(t *testing.T) {
	tests := []struct {
		name      string
		retention time.Duration
		wantErr   string
	}{
		{name: "forever", retention: 0},
		{name: "default", retention: auth.DefaultConfig().AuditRetention},
		{name: "negative", retention: -time.Hour,
			wantErr: "audit-retention: must be at least 0, got -1h0m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := auth.DefaultConfig()
			cfg.AuditRetention = tt.retention
			err := cfg.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Errorf("Validate = %v, want nil", err)
				}
			} else if err == nil || err.Error() != tt.wantErr {
				t.Errorf("Validate = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
