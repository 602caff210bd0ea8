package auth_test

import (
	"context"
	"errors"
	"testing"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/auth"
)

func TestRevoke(t *testing.T) {
	tests := []struct {
		name  string
		token func(*auth.TokenPair) string
		hint  string
	}{
		{name: "refresh-token", token: func(p *auth.TokenPair) string { return p.RefreshToken }},
		{name: "access-token", token: func(p *auth.TokenPair) string { return p.AccessToken }},
		{name: "access-token-wrong-hint", hint: auth.HintRefreshToken,
			token: func(p *auth.TokenPair) string { return p.AccessToken }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := MustOpenEnv(t, nil)
			env.MustCreateUser(t, "alice")
			ctx := context.Background()
			pair := env.MustLogin(t, "alice")
			kept := env.MustLogin(t, "alice")

			if err := env.Service.Revoke(ctx, tt.token(pair), tt.hint); err != nil {
				t.Fatal(err)
			}

			_, err := env.Refresh(pair.RefreshToken)
			if !errors.Is(err, gatepass.ErrInvalidGrant) {
				t.Errorf("refresh after revoke: err = %v, want ErrInvalidGrant", err)
			}
			in, err := env.Service.Introspect(ctx, pair.AccessToken, "")
			if err != nil || in.Active {
				t.Errorf("introspect after revoke = %+v, %v; want inactive", in, err)
			}
			if _, err := env.Refresh(kept.RefreshToken); err != nil {
				t.Errorf("the user's other session was revoked too: %v", err)
			}
		})
	}
}

func TestRevoke_unknownTokensAreFine(t *testing.T) {
	env := MustOpenEnv(t, nil)
	for _, tok := range []string{"", "garbage", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"a.b.c"} {
		if err := env.Service.Revoke(context.Background(), tok, ""); err != nil {
			t.Errorf("Revoke(%q) = %v, want nil", tok, err)
		}
	}
}

func TestIntrospect(t *testing.T) {
	env := MustOpenEnv(t, nil)
	u := env.MustCreateUser(t, "alice")
	ctx := context.Background()
	pair := env.MustLogin(t, "alice")

	access, err := env.Service.Introspect(ctx, pair.AccessToken, "")
	if err != nil {
		t.Fatal(err)
	}
	if !access.Active || access.TokenType != auth.HintAccessToken ||
		access.Username != "alice" || access.SessionID != pair.SessionID {
		t.Errorf("access token introspection = %+v", access)
	}

	refresh, err := env.Service.Introspect(ctx, pair.RefreshToken, auth.HintAccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if !refresh.Active || refresh.TokenType != auth.HintRefreshToken ||
		refresh.Subject != "1" || refresh.Scope != "profile email" || u.ID != 1 {
		t.Errorf("refresh token introspection = %+v", refresh)
	}

	if _, err := env.Refresh(pair.RefreshToken); err != nil {
		t.Fatal(err)
	}
	used, err := env.Service.Introspect(ctx, pair.RefreshToken, "")
	if err != nil || used.Active {
		t.Errorf("used refresh token introspection = %+v, %v; want inactive", used, err)
	}
}

func TestRevoke_storeFailureIsAnError(t *testing.T) {
	env := MustOpenEnv(t, nil)
	env.MustCreateUser(t, "alice")
	pair := env.MustLogin(t, "alice")
	env.Store.Close()

	if err := env.Service.Revoke(context.Background(), pair.RefreshToken, ""); err == nil {
		t.Error("Revoke reported success although the store is closed")
	}
}

// TestIntrospect_disabledUser checks that an access token is reported
// inactive, and refused by Me, once its user is disabled, even where the
// session itself was left alive (a change made in the database directly, not
// through SetDisabled, which also revokes the sessions).
func TestIntrospect_disabledUser(t *testing.T) {
	env := MustOpenEnv(t, nil)
	u := env.MustCreateUser(t, "alice")
	ctx := context.Background()
	pair := env.MustLogin(t, "alice")
	claims, err := env.Service.VerifyAccessToken(pair.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := env.Service.Me(ctx, claims); err != nil {
		t.Fatalf("Me before the change: %v", err)
	}

	disabled := true
	err = env.Store.Update(ctx, func(tx gatepass.Tx) error {
		return tx.UpdateUser(ctx, u.ID, gatepass.UserUpdate{Disabled: &disabled})
	})
	if err != nil {
		t.Fatal(err)
	}

	in, err := env.Service.Introspect(ctx, pair.AccessToken, "")
	if err != nil || in.Active {
		t.Errorf("introspect of a disabled user's token = %+v, %v; want inactive", in, err)
	}
	if _, _, err := env.Service.Me(ctx, claims); !errors.Is(err, gatepass.ErrInvalidToken) {
		t.Errorf("Me of a disabled user's token: err = %v, want ErrInvalidToken", err)
	}
	if !mustFindSession(t, env, pair.SessionID).RevokedAt.IsZero() {
		t.Fatal("the session was revoked, so the test checks nothing of the user")
	}
}
