package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/gatepass/gatepass/auth"
	"github.com/gatepass/gatepass/token"
)

// jwksKids lists the key ids of the published JWKS.
func jwksKids(tb testing.TB, svc *auth.Service) []string {
	tb.Helper()
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(svc.JWKS(), &set); err != nil {
		tb.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	return kids
}

func TestRotateKeys(t *testing.T) {
	env := MustOpenEnv(t, nil)
	env.MustCreateUser(t, "alice")
	ctx := context.Background()
	before := env.MustLogin(t, "alice")
	oldKids := jwksKids(t, env.Service)
	if len(oldKids) != 1 {
		t.Fatalf("fresh JWKS has %d keys, want 1", len(oldKids))
	}

	k, err := env.Service.RotateKeys(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	after := env.MustLogin(t, "alice")

	if got := jwksKids(t, env.Service); len(got) != 2 {
		t.Errorf("JWKS after rotation = %v, want old and new key", got)
	}
	if _, err := env.Service.VerifyAccessToken(before.AccessToken); err != nil {
		t.Errorf("token signed by the old key no longer verifies: %v", err)
	}
	if _, err := env.Service.VerifyAccessToken(after.AccessToken); err != nil {
		t.Errorf("token signed by the new key: %v", err)
	}

	// Once every token of the old key has expired, the key leaves the JWKS.
	env.Clock.Advance(time.Minute + 15*time.Minute + 31*time.Second)
	if err := env.Service.ReloadKeys(ctx); err != nil {
		t.Fatal(err)
	}
	if got := jwksKids(t, env.Service); len(got) != 1 || got[0] != k.ID {
		t.Errorf("JWKS after the old key's tokens expired = %v, want [%s]", got, k.ID)
	}
	infos, err := env.Service.FindKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 2 || infos[0].RetiredAt.IsZero() || !infos[1].RetiredAt.IsZero() {
		t.Errorf("keys = %+v, want the old one retired and the new one current", infos)
	}
}

func TestKeysSurviveRestart(t *testing.T) {
	env := MustOpenEnv(t, nil)
	env.MustCreateUser(t, "alice")
	pair := env.MustLogin(t, "alice")
	jwks := string(env.Service.JWKS())
	env.Store.Close()

	reopened := MustReopenEnv(t, env.Path, env.Clock, nil)
	if got := string(reopened.Service.JWKS()); got != jwks {
		t.Errorf("JWKS changed across a restart:\n got %s\nwant %s", got, jwks)
	}
	if _, err := reopened.Service.VerifyAccessToken(pair.AccessToken); err != nil {
		t.Errorf("access token after restart: %v", err)
	}
	if _, err := reopened.Refresh(pair.RefreshToken); err != nil {
		t.Errorf("refresh token after restart: %v", err)
	}
}

func TestEnsureAlgorithm(t *testing.T) {
	env := MustOpenEnv(t, nil)
	env.MustCreateUser(t, "alice")
	ctx := context.Background()
	es256 := env.MustLogin(t, "alice")
	env.Store.Close()

	// Admin commands with another --alg do not switch keys; the server does.
	eddsa := func(c *auth.Config) { c.Algorithm = token.EdDSA }
	admin := MustReopenEnv(t, env.Path, env.Clock, eddsa)
	if infos, _ := admin.Service.FindKeys(ctx); len(infos) != 1 {
		t.Fatalf("opening with another alg created keys: %+v", infos)
	}
	if err := admin.Service.EnsureAlgorithm(ctx); err != nil {
		t.Fatal(err)
	}

	infos, err := admin.Service.FindKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 2 || infos[1].Algorithm != token.EdDSA || !infos[1].RetiredAt.IsZero() {
		t.Errorf("keys = %+v, want a current EdDSA key", infos)
	}
	if _, err := admin.Service.VerifyAccessToken(es256.AccessToken); err != nil {
		t.Errorf("ES256 token during the switch: %v", err)
	}
	if err := admin.Service.EnsureAlgorithm(ctx); err != nil {
		t.Fatal(err)
	}
	if infos, _ := admin.Service.FindKeys(ctx); len(infos) != 2 {
		t.Errorf("EnsureAlgorithm twice created %d keys, want 2", len(infos))
	}
}

func TestVerifyAccessToken_rejectsExpired(t *testing.T) {
	env := MustOpenEnv(t, nil)
	env.MustCreateUser(t, "alice")
	pair := env.MustLogin(t, "alice")

	env.Clock.Advance(15*time.Minute + 31*time.Second)
	if _, err := env.Service.VerifyAccessToken(pair.AccessToken); !errors.Is(err,
		token.ErrExpired) {
		t.Errorf("err = %v, want token.ErrExpired", err)
	}
}
