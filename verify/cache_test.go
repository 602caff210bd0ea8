package verify_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/verify"
)

// MustStartMutatingAPI serves GET /me like MustStartAPI, except that its handler
// scribbles over the claims in the request context once it has answered, as a
// careless handler might.
func MustStartMutatingAPI(tb testing.TB, v *verify.Verifier) *httptest.Server {
	tb.Helper()
	mux := http.NewServeMux()
	mux.Handle("GET /me", v.Middleware(http.HandlerFunc(func(w http.ResponseWriter,
		r *http.Request) {
		echoIdentity(w, r)
		c := gatepass.ClaimsFromContext(r.Context())
		c.Subject, c.Username, c.Scope = "0", "mallory", "admin"
		c.Audience[0] = "elsewhere"
	})))
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	return srv
}

// TestMiddleware_cache checks that a token sent again, with the cache on or off,
// gets the same identity every time, that no handler can change what the next
// request sees, and that the token is refused once it has expired.
func TestMiddleware_cache(t *testing.T) {
	tests := []struct {
		name string
		opts []verify.Option
	}{
		{name: "default"},
		{name: "one-token", opts: []verify.Option{verify.WithCache(1)}},
		{name: "off", opts: []verify.Option{verify.WithCache(0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iss := MustStartIssuer(t)
			api := MustStartMutatingAPI(t, iss.MustNewVerifier(t, nil, tt.opts...))
			pair := iss.MustLogin(t, "alice", "")
			claims, err := iss.svc.VerifyAccessToken(pair.AccessToken)
			if err != nil {
				t.Fatalf("the server refuses its own token: %v", err)
			}
			want := identity{
				Subject:   claims.Subject,
				Username:  "alice",
				SessionID: pair.SessionID,
				Scopes:    []string{"profile", "email", "orders"},
				ExpiresAt: pair.AccessExpiresAt.UTC().Format(time.RFC3339),
				Claims:    claims,
			}

			for i := range 3 {
				got := do(t, api, http.MethodGet, "/me", bearer(pair.AccessToken)).Identity(t)
				if diff := cmp.Diff(got, want); diff != "" {
					t.Errorf("request %d: identity (-got +want):\n%s", i, diff)
				}
			}

			iss.clock.Advance(15*time.Minute + 30*time.Second)
			r := do(t, api, http.MethodGet, "/me", bearer(pair.AccessToken))
			wantRefusal(t, r, http.StatusUnauthorized, errorBody{Error: "invalid_token",
				Description: "token has expired"})
		})
	}
}

// TestMiddleware_cacheDropsRemovedKey caches a token, then removes its key from
// the JWK Set: once the Verifier has fetched the new set, the token is refused
// for its unknown key instead of being answered from memory.
func TestMiddleware_cacheDropsRemovedKey(t *testing.T) {
	iss := MustStartIssuer(t)
	api := MustStartAPI(t, iss.MustNewVerifier(t, nil))
	old := iss.MustLogin(t, "alice", "")
	oldKid := currentKeyID(t, iss)
	for range 2 {
		got := do(t, api, http.MethodGet, "/me", bearer(old.AccessToken)).Identity(t)
		if got.Username != "alice" {
			t.Fatalf("token of the old key: username %q, want alice", got.Username)
		}
	}

	// Rotate, and publish the new key alone, as after a key compromise.
	iss.MustRotate(t)
	jwks := withoutKey(t, iss.svc.JWKS(), oldKid)
	iss.SetJWKS(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(jwks)
	})

	// A token of the new key makes the Verifier fetch the set.
	iss.clock.Advance(refetchLimit)
	fresh := iss.MustLogin(t, "bob", "")
	got := do(t, api, http.MethodGet, "/me", bearer(fresh.AccessToken)).Identity(t)
	if got.Username != "bob" {
		t.Errorf("token of the new key: username %q, want bob", got.Username)
	}

	r := do(t, api, http.MethodGet, "/me", bearer(old.AccessToken))
	wantRefusal(t, r, http.StatusUnauthorized, errorBody{Error: "invalid_token",
		Description: "token signing key is unknown"})
}

// withoutKey returns the JWK Set jwks without the key kid.
func withoutKey(tb testing.TB, jwks []byte, kid string) []byte {
	tb.Helper()
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(jwks, &set); err != nil {
		tb.Fatal(err)
	}
	kept := set.Keys[:0]
	for _, k := range set.Keys {
		if k["kid"] != kid {
			kept = append(kept, k)
		}
	}
	if len(kept) == len(set.Keys) {
		tb.Fatalf("no key %s in the set", kid)
	}
	set.Keys = kept
	out, err := json.Marshal(set)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func TestWithCache_negative(t *testing.T) {
	iss := MustStartIssuer(t)
	v, err := verify.New(context.Background(), testIssuer, testAudience,
		iss.verifierOptions(nil, verify.WithCache(-1))...)
	if err == nil {
		v.Close()
		t.Fatal("New succeeded, want an error")
	}
	if got, want := err.Error(), "verify: cache size: must be at least 0, got -1"; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
}
