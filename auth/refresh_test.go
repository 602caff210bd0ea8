package auth_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/auth"
)

func TestRefresh_rotates(t *testing.T) {
	env := MustOpenEnv(t, nil)
	env.MustCreateUser(t, "alice")
	first := env.MustLogin(t, "alice")

	env.Clock.Advance(time.Hour)
	second, err := env.Refresh(first.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}

	if second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
		t.Error("refresh returned the same tokens")
	}
	if second.SessionID != first.SessionID {
		t.Errorf("session changed: %s -> %s", first.SessionID, second.SessionID)
	}
	want := env.Clock.Now().Add(7 * 24 * time.Hour)
	if !second.RefreshExpiresAt.Equal(want) {
		t.Errorf("successor expires %v, want a fresh lifetime to %v",
			second.RefreshExpiresAt, want)
	}
	if _, err := env.Refresh(second.RefreshToken); err != nil {
		t.Errorf("successor does not refresh: %v", err)
	}
}

func TestRefresh_replayInsideIntervalReturnsCurrentToken(t *testing.T) {
	env := MustOpenEnv(t, nil)
	env.MustCreateUser(t, "alice")
	first := env.MustLogin(t, "alice")

	second, err := env.Refresh(first.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(3 * time.Second)
	again, err := env.Refresh(first.RefreshToken)
	if err != nil {
		t.Fatalf("replay inside the interval: %v", err)
	}
	if again.RefreshToken != second.RefreshToken {
		t.Error("replay inside the interval did not return the same successor")
	}
	if again.AccessToken == second.AccessToken {
		t.Error("replay did not issue a fresh access token")
	}

	// The chain moves on; an older token replayed in time still lands on the newest.
	env.Clock.Advance(3 * time.Second)
	third, err := env.Refresh(second.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(3 * time.Second)
	latest, err := env.Refresh(first.RefreshToken)
	if err != nil {
		t.Fatalf("ancestor replay inside the interval: %v", err)
	}
	if latest.RefreshToken != third.RefreshToken {
		t.Error("ancestor replay forked the chain instead of returning the current token")
	}
}

func TestRefresh_reuseAfterIntervalRevokesSession(t *testing.T) {
	env := MustOpenEnv(t, nil)
	env.MustCreateUser(t, "alice")
	first := env.MustLogin(t, "alice")
	other := env.MustLogin(t, "alice")

	second, err := env.Refresh(first.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(11 * time.Second)
	if _, err := env.Refresh(first.RefreshToken); !errors.Is(err, gatepass.ErrInvalidGrant) {
		t.Fatalf("reuse after interval: err = %v, want ErrInvalidGrant", err)
	}

	if _, err := env.Refresh(second.RefreshToken); !errors.Is(err, gatepass.ErrInvalidGrant) {
		t.Errorf("current token of a revoked family: err = %v, want ErrInvalidGrant", err)
	}
	sess := mustFindSession(t, env, first.SessionID)
	if sess.RevokedAt.IsZero() || sess.RevokeReason != gatepass.RevokeReuse {
		t.Errorf("session revoked at %v for %q, want revoked for reuse",
			sess.RevokedAt, sess.RevokeReason)
	}
	if _, err := env.Refresh(other.RefreshToken); err != nil {
		t.Errorf("another session of the same user was hurt: %v", err)
	}
}

func TestRefresh_concurrentGiveOneSuccessor(t *testing.T) {
	env := MustOpenEnv(t, nil)
	env.MustCreateUser(t, "alice")
	first := env.MustLogin(t, "alice")

	const n = 40
	var wg sync.WaitGroup
	results := make([]*auth.TokenPair, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { results[i], errs[i] = env.Refresh(first.RefreshToken) })
	}
	wg.Wait()

	for i := range n {
		if errs[i] != nil {
			t.Fatalf("refresh %d: %v", i, errs[i])
		}
		if results[i].RefreshToken != results[0].RefreshToken {
			t.Fatalf("refresh %d got a different successor", i)
		}
	}
	if _, err := env.Refresh(results[0].RefreshToken); err != nil {
		t.Errorf("the one successor does not refresh: %v", err)
	}
}

func TestRefresh_boundedBySessionLifetime(t *testing.T) {
	env := MustOpenEnv(t, func(c *auth.Config) { c.SessionTTL = 8 * 24 * time.Hour })
	env.MustCreateUser(t, "alice")
	pair := env.MustLogin(t, "alice")
	end := env.Clock.Now().Add(8 * 24 * time.Hour)

	for range 3 {
		env.Clock.Advance(2 * 24 * time.Hour)
		var err error
		pair, err = env.Refresh(pair.RefreshToken)
		if err != nil {
			t.Fatalf("refresh at %v: %v", env.Clock.Now(), err)
		}
		if pair.RefreshExpiresAt.After(end) {
			t.Fatalf("refresh token outlives its session: %v > %v", pair.RefreshExpiresAt, end)
		}
	}

	if !pair.RefreshExpiresAt.Equal(end) {
		t.Errorf("late successor expires %v, want the session's end %v",
			pair.RefreshExpiresAt, end)
	}

	env.Clock.Advance(2*24*time.Hour + time.Minute)
	if _, err := env.Refresh(pair.RefreshToken); !errors.Is(err, gatepass.ErrInvalidGrant) {
		t.Errorf("refresh after the absolute end: err = %v, want ErrInvalidGrant", err)
	}
}

func TestRefresh_rejections(t *testing.T) {
	env := MustOpenEnv(t, nil)
	env.MustCreateUser(t, "alice")
	env.MustCreateUser(t, "bob")
	ctx := context.Background()

	expired := env.MustLogin(t, "alice")
	env.Clock.Advance(7*24*time.Hour + time.Second)
	bobs := env.MustLogin(t, "bob")
	if err := env.Service.SetDisabled(ctx, "bob", true); err != nil {
		t.Fatal(err)
	}
	fresh := env.MustLogin(t, "alice")

	tests := []struct {
		name    string
		token   string
		scope   string
		wantErr error
	}{
		{name: "garbage", token: "not-a-token", wantErr: gatepass.ErrInvalidGrant},
		{name: "unknown", token: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
			wantErr: gatepass.ErrInvalidGrant},
		{name: "expired", token: expired.RefreshToken, wantErr: gatepass.ErrInvalidGrant},
		{name: "disabled-user", token: bobs.RefreshToken, wantErr: gatepass.ErrInvalidGrant},
		{name: "wider-scope", token: fresh.RefreshToken, scope: "admin",
			wantErr: gatepass.ErrInvalidScope},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := env.Service.Refresh(ctx, auth.RefreshRequest{RefreshToken: tt.token,
				Scope: tt.scope})
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}

	// A rejected scope must not have used the token up.
	narrowed, err := env.Service.Refresh(ctx, auth.RefreshRequest{
		RefreshToken: fresh.RefreshToken, Scope: "email"})
	if err != nil {
		t.Fatalf("refresh after a rejected scope: %v", err)
	}
	claims, err := env.Service.VerifyAccessToken(narrowed.AccessToken)
	if err != nil || claims.Scope != "email" {
		t.Errorf("narrowed scope = %q (err %v), want email", claims.Scope, err)
	}
}

func TestRefresh_otherClientRefused(t *testing.T) {
	env := MustOpenEnv(t, nil)
	env.MustCreateUser(t, "alice")
	ctx := context.Background()
	pair, err := env.Service.Login(ctx, auth.LoginRequest{Username: "alice",
		Password: "alice-password", Client: auth.Client{ID: "mobile"}})
	if err != nil {
		t.Fatal(err)
	}

	_, err = env.Service.Refresh(ctx, auth.RefreshRequest{RefreshToken: pair.RefreshToken,
		Client: auth.Client{ID: "web"}})
	if !errors.Is(err, gatepass.ErrInvalidGrant) {
		t.Errorf("refresh by another client: err = %v, want ErrInvalidGrant", err)
	}
	_, err = env.Service.Refresh(ctx, auth.RefreshRequest{RefreshToken: pair.RefreshToken,
		Client: auth.Client{ID: "mobile"}})
	if err != nil {
		t.Errorf("refresh by the right client after a refused one: %v", err)
	}
}

// A thief must not be able to probe a stolen, rotated token with a parameter that
// fails before reuse is judged.
func TestRefresh_reuseDetectedWhateverTheParameters(t *testing.T) {
	env := MustOpenEnv(t, nil)
	env.MustCreateUser(t, "alice")
	ctx := context.Background()
	first := env.MustLogin(t, "alice")
	if _, err := env.Refresh(first.RefreshToken); err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(time.Minute)

	_, err := env.Service.Refresh(ctx, auth.RefreshRequest{RefreshToken: first.RefreshToken,
		Scope: "bogus", Client: auth.Client{ID: "someone-else"}})
	if !errors.Is(err, gatepass.ErrInvalidGrant) {
		t.Errorf("err = %v, want ErrInvalidGrant", err)
	}
	if s := mustFindSession(t, env, first.SessionID); s.RevokeReason != gatepass.RevokeReuse {
		t.Errorf("session revoke reason = %q, want reuse", s.RevokeReason)
	}
}
