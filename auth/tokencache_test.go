package auth_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/auth"
	"github.com/gatepass/gatepass/token"
)

// withTokenCache sets the size of the token cache.
func withTokenCache(size int) func(*auth.Config) {
	return func(c *auth.Config) {
		c.TokenCache = size
	}
}

// wantClaims returns the claims of the access token of p, issued at now by a
// service with the default configuration.
func wantClaims(p *auth.TokenPair, now time.Time) *gatepass.Claims {
	cfg := auth.DefaultConfig()
	return &gatepass.Claims{
		Issuer:    cfg.Issuer,
		Subject:   strconv.FormatInt(p.UserID, 10),
		Audience:  gatepass.Audience{cfg.Audience},
		ExpiresAt: p.AccessExpiresAt.Unix(),
		IssuedAt:  now.Unix(),
		NotBefore: now.Unix(),
		SessionID: p.SessionID,
		Scope:     p.Scope,
		ClientID:  cfg.ClientID,
		Username:  p.User.Name,
	}
}

// TestVerifyAccessToken_tokenCache checks that a token checked again, with the
// cache on or off, gets the same claims every time, its own copy of them, and
// is refused once it has expired even though the cache remembers it.
func TestVerifyAccessToken_tokenCache(t *testing.T) {
	tests := []struct {
		name string
		size int
	}{
		{name: "default", size: auth.DefaultConfig().TokenCache},
		{name: "one-token", size: 1},
		{name: "off", size: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := MustOpenEnv(t, withTokenCache(tt.size))
			env.MustCreateUser(t, "alice")
			issued := env.Clock.Now()
			p := env.MustLogin(t, "alice")
			want := wantClaims(p, issued)

			for i := range 3 {
				got, err := env.Service.VerifyAccessToken(p.AccessToken)
				if err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
				// The token id is random; everything else is known.
				if got.ID == "" {
					t.Errorf("call %d: no jti", i)
				}
				if diff := cmp.Diff(got, want, ignoreJTI); diff != "" {
					t.Errorf("call %d: claims (-got +want):\n%s", i, diff)
				}
				got.Subject, got.Scope = "0", "admin"
			}

			env.Clock.Advance(env.Service.Config().AccessTTL +
				env.Service.Config().Leeway)
			if _, err := env.Service.VerifyAccessToken(p.AccessToken); !errors.Is(err,
				token.ErrExpired) {
				t.Errorf("expired token: VerifyAccessToken = %v, want ErrExpired", err)
			}
		})
	}
}

// ignoreJTI leaves the random token id out of claim comparisons.
var ignoreJTI = cmp.FilterPath(func(p cmp.Path) bool {
	return p.String() == "ID"
}, cmp.Ignore())

// TestVerifyAccessToken_cachedTokenRevoked checks that the revocation check
// refuses a token the cache holds, whether this instance revoked its session
// or another one did and this one learnt it by polling.
func TestVerifyAccessToken_cachedTokenRevoked(t *testing.T) {
	tests := []struct {
		name   string
		revoke func(t *testing.T, env *Env, target *auth.TokenPair)
	}{
		{name: "here", revoke: func(t *testing.T, env *Env, target *auth.TokenPair) {
			err := env.Service.RevokeSession(t.Context(), target.SessionID,
				gatepass.RevokeAdmin)
			if err != nil {
				t.Fatal(err)
			}
		}},
		{name: "elsewhere", revoke: func(t *testing.T, env *Env, target *auth.TokenPair) {
			other := MustReopenEnv(t, env.Path, env.Clock, withRevocationCheck)
			err := other.Service.RevokeSession(t.Context(), target.SessionID,
				gatepass.RevokeAdmin)
			if err != nil {
				t.Fatal(err)
			}
			env.Clock.Advance(time.Second)
			if err := env.Service.PollRevocations(t.Context()); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := MustOpenEnv(t, withRevocationCheck)
			env.MustCreateUser(t, "alice")
			target, kept := env.MustLogin(t, "alice"), env.MustLogin(t, "alice")
			for range 2 {
				checkAccepted(t, env.Service, target.AccessToken, target.SessionID)
				checkAccepted(t, env.Service, kept.AccessToken, kept.SessionID)
			}

			tt.revoke(t, env, target)
			for range 2 {
				checkRefused(t, env.Service, target.AccessToken)
				checkAccepted(t, env.Service, kept.AccessToken, kept.SessionID)
			}
		})
	}
}

// TestVerifyAccessToken_cacheDropsRemovedKey caches a token, lets its key leave
// the key set and turns the clock back into the token's lifetime: the token
// must be refused for its unknown key, not answered from the cache.
func TestVerifyAccessToken_cacheDropsRemovedKey(t *testing.T) {
	ctx := context.Background()
	env := MustOpenEnv(t, nil)
	env.MustCreateUser(t, "alice")
	old := env.MustLogin(t, "alice")
	if _, err := env.Service.RotateKeys(ctx, ""); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, env, old.AccessToken)
	issuedAfter := env.MustLogin(t, "alice")
	mustVerify(t, env, issuedAfter.AccessToken)

	// The retired key leaves once every token it signed has expired.
	cfg := env.Service.Config()
	away := cfg.KeyReloadInterval + cfg.AccessTTL + cfg.Leeway + time.Second
	env.Clock.Advance(away)
	if err := env.Service.ReloadKeys(ctx); err != nil {
		t.Fatal(err)
	}
	if got := jwksKids(t, env.Service); len(got) != 1 {
		t.Fatalf("JWKS after the old key's removal = %v, want one key", got)
	}

	env.Clock.Advance(-away)
	if _, err := env.Service.VerifyAccessToken(old.AccessToken); !errors.Is(err,
		token.ErrUnknownKey) {
		t.Errorf("token of the removed key: VerifyAccessToken = %v, want ErrUnknownKey",
			err)
	}
	checkAccepted(t, env.Service, issuedAfter.AccessToken, issuedAfter.SessionID)
}

func TestConfigValidate_tokenCache(t *testing.T) {
	tests := []struct {
		name    string
		size    int
		wantErr string
	}{
		{name: "off", size: 0},
		{name: "large", size: 1_000_000},
		{name: "negative", size: -1, wantErr: "token-cache: must be at least 0, got -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := auth.DefaultConfig()
			cfg.TokenCache = tt.size
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

// BenchmarkVerifyAccessTokenCache checks the same token again and again with each
// signing algorithm, with the token cache on and off.
func BenchmarkVerifyAccessTokenCache(b *testing.B) {
	for _, alg := range token.Algorithms {
		for _, size := range []int{auth.DefaultConfig().TokenCache, 0} {
			name := alg + "/cached"
			if size == 0 {
				name = alg + "/uncached"
			}
			b.Run(name, func(b *testing.B) {
				env := MustOpenEnv(b, func(c *auth.Config) {
					c.Algorithm, c.TokenCache = alg, size
				})
				env.MustCreateUser(b, "alice")
				tok := env.MustLogin(b, "alice").AccessToken
				b.ReportAllocs()
				for b.Loop() {
					if _, err := env.Service.VerifyAccessToken(tok); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
