package auth_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/auth"
	"golang.org/x/crypto/bcrypt"
)

func TestLogin(t *testing.T) {
	env := MustOpenEnv(t, nil)
	u := env.MustCreateUser(t, "alice")

	pair, err := env.Service.Login(context.Background(), auth.LoginRequest{
		Username: "alice", Password: "alice-password", Scope: "email",
		Client: auth.Client{ID: "web-app", IPAddress: "192.0.2.1", UserAgent: "test/1"},
	})
	if err != nil {
		t.Fatal(err)
	}

	claims, err := env.Service.VerifyAccessToken(pair.AccessToken)
	if err != nil {
		t.Fatalf("issued token does not verify: %v", err)
	}
	now := env.Clock.Now()
	want := gatepass.Claims{
		Issuer: "http://127.0.0.1:8080", Subject: strconv.FormatInt(u.ID, 10),
		Audience: gatepass.Audience{"http://127.0.0.1:8080"}, IssuedAt: now.Unix(),
		NotBefore: now.Unix(), ExpiresAt: now.Add(15 * time.Minute).Unix(),
		ID: claims.ID, SessionID: pair.SessionID, Scope: "email", ClientID: "web-app",
		Username: "alice",
	}
	if diff := cmpDiff(*claims, want); diff != "" {
		t.Errorf("claims (-got +want):\n%s", diff)
	}
	if pair.ExpiresIn != 900 || pair.Scope != "email" || len(pair.RefreshToken) != 43 {
		t.Errorf("pair = %+v, want expires_in 900, scope email, 43-char refresh token",
			pair)
	}
	if got, want := pair.RefreshExpiresAt, now.Add(7*24*time.Hour); !got.Equal(want) {
		t.Errorf("refresh expires %v, want %v", got, want)
	}

	sess := mustFindSession(t, env, pair.SessionID)
	if sess.ClientID != "web-app" || sess.IPAddress != "192.0.2.1" ||
		sess.UserAgent != "test/1" || !sess.ExpiresAt.Equal(now.Add(30*24*time.Hour)) {
		t.Errorf("stored session = %+v", sess)
	}
}

func TestLogin_failures(t *testing.T) {
	env := MustOpenEnv(t, nil)
	env.MustCreateUser(t, "alice")
	env.MustCreateUser(t, "bob")
	if err := env.Service.SetDisabled(context.Background(), "bob", true); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		req      auth.LoginRequest
		wantErr  error
		wantCode string
	}{
		{name: "unknown-user", req: auth.LoginRequest{Username: "carol",
			Password: "carol-password"}, wantErr: gatepass.ErrInvalidCredentials},
		{name: "wrong-password", req: auth.LoginRequest{Username: "alice",
			Password: "not-it"}, wantErr: gatepass.ErrInvalidCredentials},
		{name: "empty-username", req: auth.LoginRequest{Password: "x"},
			wantErr: gatepass.ErrInvalidCredentials},
		{name: "disabled-user", req: auth.LoginRequest{Username: "bob",
			Password: "bob-password"}, wantErr: gatepass.ErrInvalidCredentials},
		{name: "scope-not-allowed", req: auth.LoginRequest{Username: "alice",
			Password: "alice-password", Scope: "admin"}, wantErr: gatepass.ErrInvalidScope},
		{name: "bad-client-id", req: auth.LoginRequest{Username: "alice",
			Password: "alice-password", Client: auth.Client{ID: "a b"}},
			wantCode: gatepass.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := env.Service.Login(context.Background(), tt.req)
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantCode != "" && gatepass.ErrorCode(err) != tt.wantCode {
				t.Errorf("code = %q, want %q", gatepass.ErrorCode(err), tt.wantCode)
			}
		})
	}

	sessions := mustFindSessions(t, env)
	if len(sessions) != 0 {
		t.Errorf("failed sign-ins created %d sessions", len(sessions))
	}
}

func TestLogin_upgradesLegacyHash(t *testing.T) {
	env := MustOpenEnv(t, nil)
	ctx := context.Background()
	legacy, err := bcrypt.GenerateFromPassword([]byte("imported-pass"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	u := &gatepass.User{Name: "imported", PasswordHash: string(legacy),
		CreatedAt: env.Clock.Now(), UpdatedAt: env.Clock.Now()}
	if err := env.Store.Update(ctx, func(tx gatepass.Tx) error {
		return tx.CreateUser(ctx, u)
	}); err != nil {
		t.Fatal(err)
	}

	_, err = env.Service.Login(ctx, auth.LoginRequest{Username: "imported",
		Password: "imported-pass"})
	if err != nil {
		t.Fatalf("sign-in with imported bcrypt hash: %v", err)
	}

	got, err := env.Service.FindUserByID(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.PasswordHash[:10] != "$argon2id$" {
		t.Errorf("hash not upgraded: starts %q", got.PasswordHash[:10])
	}
	if _, err := env.Service.Login(ctx, auth.LoginRequest{Username: "imported",
		Password: "imported-pass"}); err != nil {
		t.Errorf("sign-in after upgrade: %v", err)
	}
}
