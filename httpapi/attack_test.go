package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/internal/attacktest"
	"github.com/gatepass/gatepass/token"
)

// TestAttackCorpus sends every token of the forgery corpus (package
// internal/attacktest) to every place the server checks an access token: GET
// /auth/me as a bearer token and as the access cookie, GET /auth/verify, and
// simplejwt's POST /api/token/verify/. It runs once for a server signing with
// each algorithm, which also keeps an older ES256 key it still accepts.
//
// Every token must be refused with 401 and the endpoint's invalid-token answer,
// never echoed, and logged exactly once, at Debug: whoever forges tokens
// decides how many of these lines there are. A token signed the same way but
// left unchanged must pass everywhere, so each refusal is owed to the attack.
func TestAttackCorpus(t *testing.T) {
	cases, err := attacktest.Load()
	if err != nil {
		t.Fatal(err)
	}
	site := startAttackerSite(t)

	for _, alg := range token.Algorithms {
		t.Run(alg, func(t *testing.T) {
			e, target := mustStartAttackEnv(t, alg, site.srv.URL)
			f, err := attacktest.NewForger(target)
			if err != nil {
				t.Fatal(err)
			}
			site.serve(f)
			sessionsBefore := e.Sessions(t, mustAtoi(t, target.OtherSubject))

			// An unchanged token, signed by the forger, passes every check.
			control, err := f.Forge(attacktest.Case{Name: "control", Sign: "server",
				Claims: map[string]string{"jti": `"control"`}})
			if err != nil {
				t.Fatal(err)
			}
			for _, ch := range attackCheckers {
				if res := ch.send(t, e, control); res.status != http.StatusOK {
					t.Fatalf("%s: control token: status %d, body %s", ch.name, res.status,
						res.body)
				}
			}

			applied := 0
			for _, c := range cases {
				tok, err := f.Forge(c)
				if errors.Is(err, attacktest.ErrNotApplicable) {
					continue
				} else if err != nil {
					t.Fatalf("%s: %v", c.Name, err)
				}
				applied++
				t.Run(c.Name, func(t *testing.T) {
					for _, ch := range attackCheckers {
						checkAttack(t, e, ch, c, tok)
					}
				})
			}
			if applied < len(cases)*3/4 {
				t.Errorf("only %d of %d cases apply", applied, len(cases))
			}

			// Nothing happened to the user the forgeries named.
			after := e.Sessions(t, mustAtoi(t, target.OtherSubject))
			if len(after) != len(sessionsBefore) {
				t.Errorf("the other user has %d sessions, want %d", len(after),
					len(sessionsBefore))
			}
		})
	}

	// jku, x5u and kid URLs name the attacker's site: nobody may follow them.
	if n := site.hits.Load(); n != 0 {
		t.Errorf("the server fetched the attacker's site %d times, want 0", n)
	}
}

// attackChecker is one place that checks access tokens.
type attackChecker struct {
	name string
	send func(tb testing.TB, e *testEnv, tok string) *response

	// check checks the refusal of tok; the checker answered it as a missing
	// token when carried is false.
	check func(tb testing.TB, r *response, c attacktest.Case, tok string)

	// carried reports whether the request carries tok as a token at all: a
	// cookie value with characters a cookie may not hold is dropped by the
	// server's cookie parser, as a browser would never send it.
	carried func(tok string) bool

	// logged reports whether a refusal of tok is logged as a rejected access
	// token.
	logged func(tok string) bool
}

// attackCheckers are the places the server checks an access token.
var attackCheckers = []attackChecker{
	{
		name: "me-bearer",
		send: func(tb testing.TB, e *testEnv, tok string) *response {
			return e.Get(tb, "/auth/me", tok)
		},
		check:   wantInvalidToken,
		carried: always,
		logged:  always,
	},
	{
		name: "me-cookie",
		send: func(tb testing.TB, e *testEnv, tok string) *response {
			name := namesFor(e.api.InsecureCookies).access
			return e.Do(tb, http.MethodGet, "/auth/me", "", "",
				http.Header{"Cookie": {name + "=" + tok}})
		},
		check:   wantInvalidToken,
		carried: cookieCarries,
		logged:  always,
	},
	{
		name: "forward-auth",
		send: func(tb testing.TB, e *testEnv, tok string) *response {
			return e.Get(tb, "/auth/verify", tok)
		},
		check: func(tb testing.TB, r *response, c attacktest.Case, tok string) {
			tb.Helper()
			wantInvalidToken(tb, r, c, tok)
			for k := range r.header {
				if strings.HasPrefix(k, "X-Auth-") {
					tb.Errorf("refusal carries identity header %s", k)
				}
			}
		},
		carried: always,
		logged:  always,
	},
	{
		name: "simplejwt-verify",
		send: func(tb testing.TB, e *testEnv, tok string) *response {
			return e.PostJSON(tb, "/api/token/verify/", map[string]string{"token": tok})
		},
		check:   wantSimpleJWTRefusal,
		carried: always,

		// A token that does not look like a JWT is looked up as a refresh
		// token, which reads the store and logs nothing.
		logged: func(tok string) bool { return strings.Count(tok, ".") == 2 },
	},
}

func always(string) bool { return true }

// cookieCarries reports whether the server's cookie parser keeps tok as the
// access cookie's value.
func cookieCarries(tok string) bool {
	r := &http.Request{Header: http.Header{"Cookie": {"c=" + tok}}}
	cookies := r.CookiesNamed("c")
	return len(cookies) == 1 && cookies[0].Value != ""
}

// checkAttack sends tok to ch and checks the refusal, and the log lines the
// request added.
func checkAttack(t *testing.T, e *testEnv, ch attackChecker, c attacktest.Case, tok string) {
	t.Helper()
	before := len(e.logs.String())
	res := ch.send(t, e, tok)
	logs := e.logs.String()[before:]

	if c.ValidFor(ch.name) {
		if res.status != http.StatusOK || string(res.body) != "{}\n" {
			t.Errorf("%s: status %d, body %s; want 200 {}", ch.name, res.status, res.body)
		}
		return
	}
	if res.status >= 200 && res.status < 300 || res.status >= 500 {
		t.Fatalf("%s: status %d, body %s", ch.name, res.status, res.body)
	}

	if !ch.carried(tok) {
		wantError(t, res, http.StatusUnauthorized, "unauthorized")
	} else {
		ch.check(t, res, c, tok)
	}
	if len(tok) > 16 && strings.Contains(string(res.body), tok) {
		t.Errorf("%s: the answer echoes the token", ch.name)
	}

	// One Debug line per refusal, and nothing louder.
	want := 0
	if ch.carried(tok) && ch.logged(tok) {
		want = 1
	}
	got := 0
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, `msg="access token rejected"`) {
			got++
			if !strings.HasPrefix(line, "time=") || !strings.Contains(line, " level=DEBUG ") {
				t.Errorf("%s: rejection not logged at Debug: %s", ch.name, line)
			}
		}
		if strings.Contains(line, " level=WARN ") || strings.Contains(line, " level=ERROR ") {
			t.Errorf("%s: refusal logged above Debug: %s", ch.name, line)
		}
	}
	if got != want {
		t.Errorf("%s: %d rejection lines logged, want %d:\n%s", ch.name, got, want, logs)
	}
}

// wantInvalidToken checks the RFC 6750 invalid_token answer of gatepass's own
// endpoints.
func wantInvalidToken(tb testing.TB, r *response, _ attacktest.Case, _ string) {
	tb.Helper()
	wantError(tb, r, http.StatusUnauthorized, "invalid_token")
	challenge := r.header.Get("WWW-Authenticate")
	if !strings.HasPrefix(challenge, `Bearer realm="gatepass", error="invalid_token"`) {
		tb.Errorf("WWW-Authenticate = %q", challenge)
	}
}

// wantSimpleJWTRefusal checks simplejwt's refusal: 401 with one of its
// details for a bad token and the code token_not_valid, and nothing else.
func wantSimpleJWTRefusal(tb testing.TB, r *response, _ attacktest.Case, _ string) {
	tb.Helper()
	detail, _ := r.JSON(tb)["detail"].(string)
	switch detail {
	case "Token is invalid", "Token is expired", "Token is invalid or expired":
	default:
		tb.Errorf("detail = %q", detail)
	}
	wantTokenNotValid(tb, r, detail)
	if got := r.header.Get("Cache-Control"); got != "no-store" {
		tb.Errorf("Cache-Control = %q, want no-store", got)
	}
}

// mustStartAttackEnv starts a server with simplejwt's endpoints on, users alice
// and bob, an ES256 key and a newer, current key of alg, and describes it for
// the forger: its keys as stored, its JWK Set as published, and a genuine
// token pair of alice's.
func mustStartAttackEnv(tb testing.TB, alg, attackerURL string) (*testEnv,
	attacktest.Target) {
	tb.Helper()
	ctx := context.Background()
	e := enableSimpleJWT(tb, MustStartEnv(tb))
	e.MustCreateUser(tb, testUser, testEmail)
	bob := e.MustCreateUser(tb, "bob", "")
	if _, err := e.svc.RotateKeys(ctx, alg); err != nil {
		tb.Fatalf("rotate keys: %v", err)
	}

	target := attacktest.Target{
		JWKS:         e.Get(tb, "/.well-known/jwks.json", "").body,
		OtherSubject: strconv.FormatInt(bob.ID, 10),
		Now:          e.clock.Now(),
		AttackerURL:  attackerURL,
	}
	pair := e.MustLogin(tb, testUser)
	target.Access, target.Refresh = pair.AccessToken, pair.RefreshToken

	err := e.db.View(ctx, func(tx gatepass.Tx) error {
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
	return e, target
}

// attackerSite is a site the attacker controls, serving its key set and
// certificate, and counting every request.
type attackerSite struct {
	srv  *httptest.Server
	hits atomic.Int64

	mu   sync.Mutex
	jwks []byte
	cert []byte
}

func startAttackerSite(tb testing.TB) *attackerSite {
	tb.Helper()
	site := &attackerSite{}
	site.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter,
		r *http.Request) {
		site.hits.Add(1)
		site.mu.Lock()
		defer site.mu.Unlock()
		switch r.URL.Path {
		case "/jwks.json":
			w.Write(site.jwks)
		case "/cert.pem":
			w.Write(site.cert)
		default:
			http.NotFound(w, r)
		}
	}))
	tb.Cleanup(site.srv.Close)
	return site
}

// serve makes the site serve the attacker keys of f.
func (s *attackerSite) serve(f *attacktest.Forger) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jwks, s.cert = f.AttackerJWKS(), f.AttackerCertPEM()
}

func mustAtoi(tb testing.TB, s string) int64 {
	tb.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		tb.Fatal(err)
	}
	return n
}
