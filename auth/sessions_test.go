package auth_test

import (
	"context"
	"errors"
	"testing"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/auth"
	"github.com/gatepass/gatepass/password"
)

func TestLogout_scopes(t *testing.T) {
	tests := []struct {
		name        string
		scope       string
		wantCurrent bool // current session still refreshes
		wantOther   bool // other session still refreshes
	}{
		{name: "local", scope: auth.LogoutLocal, wantCurrent: false, wantOther: true},
		{name: "default-is-local", scope: "", wantCurrent: false, wantOther: true},
		{name: "others", scope: auth.LogoutOthers, wantCurrent: true, wantOther: false},
		{name: "global", scope: auth.LogoutGlobal, wantCurrent: false, wantOther: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := MustOpenEnv(t, nil)
			env.MustCreateUser(t, "alice")
			env.MustCreateUser(t, "bob")
			current := env.MustLogin(t, "alice")
			other := env.MustLogin(t, "alice")
			bobs := env.MustLogin(t, "bob")
			claims, err := env.Service.VerifyAccessToken(current.AccessToken)
			if err != nil {
				t.Fatal(err)
			}

			if _, err := env.Service.Logout(context.Background(), claims, tt.scope); err != nil {
				t.Fatal(err)
			}

			_, err = env.Refresh(current.RefreshToken)
			if got := err == nil; got != tt.wantCurrent {
				t.Errorf("current session alive = %v, want %v", got, tt.wantCurrent)
			}
			_, err = env.Refresh(other.RefreshToken)
			if got := err == nil; got != tt.wantOther {
				t.Errorf("other session alive = %v, want %v", got, tt.wantOther)
			}
			if _, err := env.Refresh(bobs.RefreshToken); err != nil {
				t.Errorf("another user's session was ended: %v", err)
			}
		})
	}
}

func TestLogout_badScope(t *testing.T) {
	env := MustOpenEnv(t, nil)
	env.MustCreateUser(t, "alice")
	pair := env.MustLogin(t, "alice")
	claims, _ := env.Service.VerifyAccessToken(pair.AccessToken)

	_, err := env.Service.Logout(context.Background(), claims, "everyone")
	if gatepass.ErrorCode(err) != gatepass.EINVALID {
		t.Errorf("err = %v, want EINVALID", err)
	}
	if _, err := env.Refresh(pair.RefreshToken); err != nil {
		t.Errorf("a refused logout ended the session: %v", err)
	}
}

func TestFindAndRevokeUserSessions(t *testing.T) {
	env := MustOpenEnv(t, nil)
	alice := env.MustCreateUser(t, "alice")
	bob := env.MustCreateUser(t, "bob")
	ctx := context.Background()
	first := env.MustLogin(t, "alice")
	env.Clock.Advance(1)
	second := env.MustLogin(t, "alice")
	bobs := env.MustLogin(t, "bob")

	sessions, err := env.Service.FindSessions(ctx, alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(sessions) != 2 || sessions[0].ID != second.SessionID {
		t.Fatalf("sessions = %d, first %v; want 2, newest first", len(sessions), sessions)
	}

	err = env.Service.RevokeUserSession(ctx, bob.ID, first.SessionID)
	if gatepass.ErrorCode(err) != gatepass.ENOTFOUND {
		t.Errorf("revoking another user's session: err = %v, want ENOTFOUND", err)
	}
	if err := env.Service.RevokeUserSession(ctx, alice.ID, first.SessionID); err != nil {
		t.Fatal(err)
	}

	sessions, _ = env.Service.FindSessions(ctx, alice.ID)
	if len(sessions) != 1 || sessions[0].ID != second.SessionID {
		t.Errorf("after revoking one, sessions = %v", sessions)
	}
	if _, err := env.Refresh(bobs.RefreshToken); err != nil {
		t.Errorf("bob's session was hurt: %v", err)
	}
}

func TestSignUp(t *testing.T) {
	env := MustOpenEnv(t, nil)
	env.MustCreateUser(t, "alice")
	ctx := context.Background()

	pair, err := env.Service.SignUp(ctx, auth.NewUser{Name: "carol",
		Email: "carol@example.com", Password: "a fine long passphrase"}, auth.Client{})
	if err != nil {
		t.Fatal(err)
	}
	if claims, err := env.Service.VerifyAccessToken(pair.AccessToken); err != nil ||
		claims.Username != "carol" {
		t.Errorf("sign-up token: %v, %v", claims, err)
	}

	tests := []struct {
		name      string
		user      auth.NewUser
		wantField string
		wantErr   error
	}{
		{name: "taken", user: auth.NewUser{Name: "alice", Password: "a fine long passphrase"},
			wantField: "username"},
		{name: "common-password", user: auth.NewUser{Name: "dave", Password: "password123"},
			wantField: "password", wantErr: password.ErrTooCommon},
		{name: "password-is-name", user: auth.NewUser{Name: "davidsmith",
			Password: "DavidSmith"}, wantField: "password", wantErr: password.ErrLikeName},
		{name: "bad-email", user: auth.NewUser{Name: "dave", Email: "dave",
			Password: "a fine long passphrase"}, wantField: "email"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := env.Service.SignUp(ctx, tt.user, auth.Client{})
			var ge *gatepass.Error
			if !errors.As(err, &ge) || ge.Fields[tt.wantField] == "" {
				t.Errorf("err = %v, want a message for field %q", err, tt.wantField)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}
