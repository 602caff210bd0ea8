package verify_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/auth"
	"github.com/gatepass/gatepass/httpapi"
	"github.com/gatepass/gatepass/internal/attacktest"
	"github.com/gatepass/gatepass/password"
	"github.com/gatepass/gatepass/sqlite"
	"github.com/gatepass/gatepass/token"
	"github.com/gatepass/gatepass/verify"
)

// TestAttackCorpus sends every token of the forgery corpus (package
// internal/attacktest) through the middleware, as a bearer token and as the
// access cookie, for an issuer signing with each algorithm. The issuer also
// keeps an older ES256 key. Every token must be refused with 401
// invalid_token, logged once at Debug, while an unchanged token signed the same
// way is admitted.
func TestAttackCorpus(t *testing.T) {
	cases, err := attacktest.Load()
	if err != nil {
		t.Fatal(err)
	}

	for _, alg := range token.Algorithms {
		t.Run(alg, func(t *testing.T) {
			iss, target := mustStartAttackIssuer(t, alg)
			f, err := attacktest.NewForger(target)
			if err != nil {
				t.Fatal(err)
			}
			logs := &syncBuffer{}
			api := MustStartAPI(t, mustAttackVerifier(t, iss, target, logs))

			control, err := f.Forge(attacktest.Case{Name: "control", Sign: "server",
				Claims: map[string]string{"jti": `"control"`}})
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range []http.Header{bearer(control), accessCookie(control)} {
				if got := do(t, api, http.MethodGet, "/me", h).Identity(t); got.Username !=
					"alice" {
					t.Fatalf("control token admitted as %q, want alice", got.Username)
				}
			}

			for _, c := range cases {
				tok, err := f.Forge(c)
				if errors.Is(err, attacktest.ErrNotApplicable) {
					continue
				} else if err != nil {
					t.Fatalf("%s: %v", c.Name, err)
				}
				t.Run(c.Name, func(t *testing.T) {
					checkRefused(t, api, logs, "bearer", bearer(tok), true)
					checkRefused(t, api, logs, "cookie", accessCookie(tok), cookieCarries(tok))
				})
			}
		})
	}
}

// checkRefused sends a request with h to the API and checks that it is refused
// as an invalid token, or as a missing one when the token is not carried, and
// that exactly one Debug line, and nothing louder, records an invalid token.
func checkRefused(t *testing.T, api *httptest.Server, logs *syncBuffer, via string,
	h http.Header, carried bool) {
	t.Helper()
	before := len(logs.String())
	res := do(t, api, http.MethodGet, "/me", h)
	added := logs.String()[before:]

	want := errorBody{Error: "invalid_token"}
	if !carried {
		want = noToken
	}
	if res.status != http.StatusUnauthorized {
		t.Fatalf("%s: status %d, want 401, body %s", via, res.status, res.body)
	}
	if got := res.Error(t); got.Error != want.Error || got.Description == "" {
		t.Errorf("%s: error %+v, want %q", via, got, want.Error)
	}
	if got := res.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("%s: Cache-Control = %q, want no-store", via, got)
	}

	rejections := strings.Count(added, `msg="access token rejected"`)
	if wantLines := map[bool]int{true: 1, false: 0}[carried]; rejections != wantLines {
		t.Errorf("%s: %d rejection lines, want %d:\n%s", via, rejections, wantLines, added)
	}
	for _, line := range strings.Split(strings.TrimSpace(added), "\n") {
		if line != "" && !strings.Contains(line, " level=DEBUG ") &&
			!strings.Contains(line, " level=INFO ") {
			t.Errorf("%s: logged above Info: %s", via, line)
		}
	}
}

// accessCookie returns a header carrying tok in the access cookie.
func accessCookie(tok string) http.Header {
	return http.Header{"Cookie": {secureCookie + "=" + tok}}
}

// cookieCarries reports whether a cookie parser keeps tok as a cookie's value.
func cookieCarries(tok string) bool {
	r := &http.Request{Header: http.Header{"Cookie": {"c=" + tok}}}
	cookies := r.CookiesNamed("c")
	return len(cookies) == 1 && cookies[0].Value != ""
}

// mustAttackVerifier builds the middleware's Verifier for the issuer: from its
// JWK Set, or, for HS256, whose secret is never published, from its keys.
func mustAttackVerifier(tb testing.TB, iss *issuer, target attacktest.Target,
	logs *syncBuffer) *verify.Verifier {
	tb.Helper()
	if target.Current.Algorithm != token.HS256 {
		return iss.MustNewVerifier(tb, logs)
	}

	var keys []*token.Key
	for _, k := range []attacktest.Key{target.Current, target.Other} {
		key, err := token.ParseKey(k.ID, k.Algorithm, k.Private)
		if err != nil {
			tb.Fatal(err)
		}
		keys = append(keys, key)
	}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	v, err := verify.New(context.Background(), testIssuer, testAudience,
		verify.WithKeys(keys...), verify.WithTimeFunc(iss.clock.Now), verify.WithLogger(logger))
	if err != nil {
		tb.Fatalf("new verifier: %v", err)
	}
	tb.Cleanup(func() { v.Close() })
	return v
}

// mustStartAttackIssuer starts a gatepass server like MustStartIssuer's, with
// an ES256 key and a newer, current key of alg, and describes it for the
// forger: its keys as stored, its JWK Set and a genuine token pair of alice's.
func mustStartAttackIssuer(tb testing.TB, alg string) (*issuer, attacktest.Target) {
	tb.Helper()
	ctx := context.Background()
	iss := &issuer{clock: &testClock{now: startTime}}
	quiet := slog.New(slog.DiscardHandler)

	db := sqlite.NewDB(filepath.Join(tb.TempDir(), "gatepass.db"))
	db.Now, db.Logger = iss.clock.Now, quiet
	if err := db.Open(ctx); err != nil {
		tb.Fatalf("open db: %v", err)
	}
	tb.Cleanup(func() { db.Close() })

	cfg := auth.DefaultConfig()
	cfg.Issuer, cfg.Audience = testIssuer, testAudience
	hasher := password.NewHasher(0)
	hasher.Time, hasher.Memory = 1, 64
	iss.svc = auth.NewService(db, hasher, cfg)
	iss.svc.Now, iss.svc.Logger = iss.clock.Now, quiet
	if err := iss.svc.Open(ctx); err != nil {
		tb.Fatalf("open service: %v", err)
	}
	var bob *gatepass.User
	for _, name := range []string{"alice", "bob"} {
		u, err := iss.svc.CreateUser(ctx, auth.NewUser{Name: name, Password: testPassword})
		if err != nil {
			tb.Fatalf("create user %s: %v", name, err)
		}
		bob = u
	}
	if _, err := iss.svc.RotateKeys(ctx, alg); err != nil {
		tb.Fatalf("rotate keys: %v", err)
	}

	api := httpapi.NewServer(iss.svc)
	api.Logger = quiet
	iss.srv = httptest.NewServer(api.Handler())
	tb.Cleanup(iss.srv.Close)
	iss.jwksURL = iss.srv.URL + jwksPath

	pair := iss.MustLogin(tb, "alice", "")
	target := attacktest.Target{
		JWKS:         iss.svc.JWKS(),
		Access:       pair.AccessToken,
		Refresh:      pair.RefreshToken,
		OtherSubject: strconv.FormatInt(bob.ID, 10),
		Now:          iss.clock.Now(),
		AttackerURL:  "https://attacker.example.test",
	}
	err := db.View(ctx, func(tx gatepass.Tx) error {
		keys, err := tx.FindKeys(ctx)
		for _, k := range keys {
			stored := attacktest.Key{ID: k.ID, Algorithm: k.Algorithm, Private: k.Private}
			if k.Current() {
				target.Current = stored
			} else {
				target.Other = stored
			}
		}
		return err
	})
	if err != nil || target.Current.ID == "" || target.Other.ID == "" {
		tb.Fatalf("find keys: %v", err)
	}
	return iss, target
}
