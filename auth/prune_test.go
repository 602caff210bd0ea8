package auth_test

import (
	"context"
	"errors"
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
