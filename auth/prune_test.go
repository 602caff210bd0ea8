package auth_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/auth"
)

func TestPrune(t *testing.T) {
	env := MustOpenEnv(t, func(c *auth.Config) { c.SessionTTL = 10 * 24 * time.Hour })
	env.MustCreateUser(t, "alice")
	ctx := context.Background()

	old := env.MustLogin(t, "alice")
	revoked := env.MustLogin(t, "alice")
	if err := env.Service.Revoke(ctx, revoked.RefreshToken, ""); err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(9 * 24 * time.Hour)
	live := env.MustLogin(t, "alice")
	rotated, err := env.Refresh(live.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(2 * 24 * time.Hour)

	r, err := env.Service.Prune(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r.Sessions != 2 {
		t.Errorf("pruned %d sessions, want 2 (one expired, one revoked)", r.Sessions)
	}
	if n := len(mustFindSessions(t, env)); n != 1 {
		t.Errorf("%d sessions left, want 1", n)
	}
	if _, err := env.Refresh(old.RefreshToken); !errors.Is(err, gatepass.ErrInvalidGrant) {
		t.Errorf("refresh of a pruned session: err = %v, want ErrInvalidGrant", err)
	}

	// The used token of the live session is kept, so its reuse is still detected.
	if _, err := env.Refresh(live.RefreshToken); !errors.Is(err, gatepass.ErrInvalidGrant) {
		t.Fatalf("reuse after prune: err = %v", err)
	}
	if _, err := env.Refresh(rotated.RefreshToken); !errors.Is(err, gatepass.ErrInvalidGrant) {
		t.Errorf("reuse after prune was not detected: the family still refreshes (%v)", err)
	}
}

// TestPruneManyBatches checks that a backlog larger than one batch is cleared in
// full by one call, batch after batch.
func TestPruneManyBatches(t *testing.T) {
	env := MustOpenEnv(t, nil)
	u := env.MustCreateUser(t, "alice")
	ctx := context.Background()

	const n = 1234
	now := env.Clock.Now()
	err := env.Store.Update(ctx, func(tx gatepass.Tx) error {
		for i := range n {
			s := &gatepass.Session{ID: fmt.Sprintf("expired-%d", i), UserID: u.ID,
				ClientID: "test", CreatedAt: now, LastUsedAt: now,
				ExpiresAt: now.Add(time.Hour)}
			if err := tx.CreateSession(ctx, s); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(2 * time.Hour)
	live := env.MustLogin(t, "alice")

	r, err := env.Service.Prune(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r.Sessions != n {
		t.Errorf("pruned %d sessions, want %d", r.Sessions, n)
	}
	left := mustFindSessions(t, env)
	if len(left) != 1 || left[0].ID != live.SessionID {
		t.Errorf("%d sessions left, want only the live one", len(left))
	}
}
