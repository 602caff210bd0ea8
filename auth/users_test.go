package auth_test

import (
	"context"
	"errors"
	"testing"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/auth"
)

func TestCreateUser_validation(t *testing.T) {
	env := MustOpenEnv(t, nil)
	env.MustCreateUser(t, "alice")

	tests := []struct {
		name     string
		user     auth.NewUser
		wantCode string
	}{
		{name: "taken-name", user: auth.NewUser{Name: "alice", Password: "long-enough"},
			wantCode: gatepass.ECONFLICT},
		{name: "empty-name", user: auth.NewUser{Password: "long-enough"},
			wantCode: gatepass.EINVALID},
		{name: "space-in-name", user: auth.NewUser{Name: "a b", Password: "long-enough"},
			wantCode: gatepass.EINVALID},
		{name: "short-password", user: auth.NewUser{Name: "bob", Password: "short"},
			wantCode: gatepass.EINVALID},
		{name: "bad-email", user: auth.NewUser{Name: "bob", Email: "not an address",
			Password: "long-enough"}, wantCode: gatepass.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := env.Service.CreateUser(context.Background(), tt.user)
			if got := gatepass.ErrorCode(err); got != tt.wantCode {
				t.Errorf("code = %q, want %q (err %v)", got, tt.wantCode, err)
			}
		})
	}
}

func TestSetPassword_revokesSessions(t *testing.T) {
	env := MustOpenEnv(t, nil)
	env.MustCreateUser(t, "alice")
	ctx := context.Background()
	pair := env.MustLogin(t, "alice")

	if err := env.Service.SetPassword(ctx, "alice", "a-new-password"); err != nil {
		t.Fatal(err)
	}

	if _, err := env.Refresh(pair.RefreshToken); !errors.Is(err, gatepass.ErrInvalidGrant) {
		t.Errorf("refresh after password change: err = %v, want ErrInvalidGrant", err)
	}
	_, err := env.Service.Login(ctx, auth.LoginRequest{Username: "alice",
		Password: "alice-password"})
	if !errors.Is(err, gatepass.ErrInvalidCredentials) {
		t.Errorf("old password: err = %v, want ErrInvalidCredentials", err)
	}
	if _, err := env.Service.Login(ctx, auth.LoginRequest{Username: "alice",
		Password: "a-new-password"}); err != nil {
		t.Errorf("new password: %v", err)
	}
	if s := mustFindSession(t, env, pair.SessionID); s.RevokeReason != gatepass.RevokePassword {
		t.Errorf("revoke reason = %q, want %q", s.RevokeReason, gatepass.RevokePassword)
	}
}

func TestSetDisabled(t *testing.T) {
	env := MustOpenEnv(t, nil)
	env.MustCreateUser(t, "alice")
	ctx := context.Background()
	pair := env.MustLogin(t, "alice")

	if err := env.Service.SetDisabled(ctx, "alice", true); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Refresh(pair.RefreshToken); !errors.Is(err, gatepass.ErrInvalidGrant) {
		t.Errorf("refresh of a disabled user: err = %v, want ErrInvalidGrant", err)
	}

	if err := env.Service.SetDisabled(ctx, "alice", false); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Refresh(pair.RefreshToken); !errors.Is(err, gatepass.ErrInvalidGrant) {
		t.Errorf("re-enabling revived a revoked session: err = %v", err)
	}
	env.MustLogin(t, "alice")

	if err := env.Service.SetDisabled(ctx, "nobody", true); gatepass.ErrorCode(err) !=
		gatepass.ENOTFOUND {
		t.Errorf("disabling an unknown user: err = %v, want ENOTFOUND", err)
	}
}
