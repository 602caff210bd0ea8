package auth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/auth"
)

// TestRefresh_refusalReasons checks that every refusal of a refresh token says
// why in a *RefreshError, while its message stays that of ErrInvalidGrant for
// all of them, so an OAuth client learns nothing from it.
func TestRefresh_refusalReasons(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		change func(*auth.Config)
		// refuse returns a refresh request that must be refused.
		refuse func(t *testing.T, env *Env) auth.RefreshRequest
		want   string
	}{
		{name: "malformed", want: auth.RefusedMalformed,
			refuse: func(t *testing.T, env *Env) auth.RefreshRequest {
				return auth.RefreshRequest{RefreshToken: "not a token"}
			}},
		{name: "unknown", want: auth.RefusedUnknown,
			refuse: func(t *testing.T, env *Env) auth.RefreshRequest {
				tok := env.MustLogin(t, "alice").RefreshToken
				return auth.RefreshRequest{RefreshToken: tok[:len(tok)-4] + "AAAA"}
			}},
		{name: "token-expired", want: auth.RefusedTokenExpired,
			refuse: func(t *testing.T, env *Env) auth.RefreshRequest {
				tok := env.MustLogin(t, "alice").RefreshToken
				env.Clock.Advance(env.Service.Config().RefreshTTL + time.Second)
				return auth.RefreshRequest{RefreshToken: tok}
			}},
		{name: "session-expired", want: auth.RefusedSessionExpired,
			change: func(c *auth.Config) { c.SessionTTL, c.RefreshTTL = time.Hour, time.Hour },
			refuse: func(t *testing.T, env *Env) auth.RefreshRequest {
				tok := env.MustLogin(t, "alice").RefreshToken
				env.Clock.Advance(time.Hour + time.Second)
				return auth.RefreshRequest{RefreshToken: tok}
			}},
		{name: "session-revoked", want: auth.RefusedSessionRevoked,
			refuse: func(t *testing.T, env *Env) auth.RefreshRequest {
				tok := env.MustLogin(t, "alice").RefreshToken
				if err := env.Service.Revoke(ctx, tok, ""); err != nil {
					t.Fatal(err)
				}
				return auth.RefreshRequest{RefreshToken: tok}
			}},
		{name: "other-client", want: auth.RefusedClientMismatch,
			refuse: func(t *testing.T, env *Env) auth.RefreshRequest {
				tok := env.MustLogin(t, "alice").RefreshToken
				return auth.RefreshRequest{RefreshToken: tok, Client: auth.Client{ID: "web"}}
			}},
		{name: "reused", want: auth.RefusedReused,
			refuse: func(t *testing.T, env *Env) auth.RefreshRequest {
				tok := env.MustLogin(t, "alice").RefreshToken
				if _, err := env.Refresh(tok); err != nil {
					t.Fatal(err)
				}
				env.Clock.Advance(env.Service.Config().ReuseInterval + time.Second)
				return auth.RefreshRequest{RefreshToken: tok}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := MustOpenEnv(t, tt.change)
			env.MustCreateUser(t, "alice")
			req := tt.refuse(t, env)

			_, err := env.Service.Refresh(ctx, req)

			var refusal *auth.RefreshError
			if !errors.As(err, &refusal) || refusal.Reason != tt.want {
				t.Fatalf("err = %#v, want a RefreshError with reason %q", err, tt.want)
			}
			if !errors.Is(err, gatepass.ErrInvalidGrant) ||
				gatepass.ErrorMessage(err) != gatepass.ErrInvalidGrant.Message {
				t.Errorf("err = %v, want it to read as ErrInvalidGrant", err)
			}
		})
	}
}
