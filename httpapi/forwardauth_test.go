package httpapi_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/token"
	"github.com/google/go-cmp/cmp"
)

// The challenges of forward-auth's 401 answers.
const (
	challengeMissing = `Bearer realm="gatepass"`
	challengeInvalid = `Bearer realm="gatepass", error="invalid_token", error_description=`
)

// TestForwardAuth checks GET /auth/verify as a proxy calls it: with the
// original request's headers, and its method in X-Original-Method or
// X-Forwarded-Method.
func TestForwardAuth(t *testing.T) {
	e := MustStartEnv(t)
	u := e.MustCreateUser(t, testUser, testEmail)
	cs := e.MustCookieLogin(t, testUser)
	n := cs.names
	cookie := n.access + "=" + cs.access + "; " + n.csrf + "=" + cs.csrf
	bearer := "Bearer " + cs.access
	sub := strconv.FormatInt(u.ID, 10)

	// The identity headers of cs, and of tokens signed by the test.
	identity := http.Header{
		"X-Auth-Subject":  {sub},
		"X-Auth-Username": {testUser},
		"X-Auth-Scope":    {"profile email"},
		"X-Auth-Session":  {cs.body.SessionID},
		"X-Auth-Expires":  {"2031-05-17T09:45:00Z"},
	}
	signed := identity.Clone()
	signed.Set("X-Auth-Session", testSignedSession)
	admin := signed.Clone()
	admin.Set("X-Auth-Scope", "profile admin")

	tests := []struct {
		name   string
		method string
		query  string
		header http.Header

		wantStatus    int
		wantIdentity  http.Header
		wantError     string
		wantDesc      string
		wantChallenge string
	}{{
		name:         "bearer",
		header:       http.Header{"Authorization": {bearer}},
		wantStatus:   http.StatusOK,
		wantIdentity: identity,
	}, {
		name:         "bearer-head",
		method:       http.MethodHead,
		header:       http.Header{"Authorization": {bearer}},
		wantStatus:   http.StatusOK,
		wantIdentity: identity,
	}, {
		name:         "cookie",
		header:       http.Header{"Cookie": {cookie}},
		wantStatus:   http.StatusOK,
		wantIdentity: identity,
	}, {
		name: "bearer-wins-over-cookie",
		header: http.Header{"Cookie": {n.access + "=garbage"},
			"Authorization": {bearer}},
		wantStatus:   http.StatusOK,
		wantIdentity: identity,
	}, {
		name:         "token-from-signer",
		header:       http.Header{"Authorization": {"Bearer " + e.MustSignToken(t, nil)}},
		wantStatus:   http.StatusOK,
		wantIdentity: signed,
	}, {
		name:          "missing",
		wantStatus:    http.StatusUnauthorized,
		wantError:     "unauthorized",
		wantChallenge: challengeMissing,
	}, {
		name:          "basic-only",
		header:        http.Header{"Authorization": {basicAuth(testUser, testPassword)}},
		wantStatus:    http.StatusUnauthorized,
		wantError:     "unauthorized",
		wantChallenge: challengeMissing,
	}, {
		name: "duplicate-cookie",
		header: http.Header{"Cookie": {cookie + "; " + n.access + "=" +
			e.MustSignToken(t, nil)}},
		wantStatus:    http.StatusUnauthorized,
		wantError:     "unauthorized",
		wantChallenge: challengeMissing,
	}, {
		name:          "garbage",
		header:        http.Header{"Authorization": {"Bearer garbage"}},
		wantStatus:    http.StatusUnauthorized,
		wantError:     "invalid_token",
		wantChallenge: challengeInvalid + `"token is malformed"`,
	}, {
		name:          "garbage-cookie",
		header:        http.Header{"Cookie": {n.access + "=garbage"}},
		wantStatus:    http.StatusUnauthorized,
		wantError:     "invalid_token",
		wantChallenge: challengeInvalid + `"token is malformed"`,
	}, {
		name: "expired",
		header: bearerHeader(e.MustSignToken(t, func(c *gatepass.Claims) {
			c.IssuedAt -= 3600
			c.NotBefore -= 3600
			c.ExpiresAt -= 3600
		})),
		wantStatus:    http.StatusUnauthorized,
		wantError:     "invalid_token",
		wantChallenge: challengeInvalid + `"token has expired"`,
	}, {
		name: "wrong-audience",
		header: bearerHeader(e.MustSignToken(t, func(c *gatepass.Claims) {
			c.Audience = gatepass.Audience{"https://other.example.test"}
		})),
		wantStatus:    http.StatusUnauthorized,
		wantError:     "invalid_token",
		wantChallenge: challengeInvalid + `"token audience is not accepted"`,
	}, {
		name: "wrong-issuer",
		header: bearerHeader(e.MustSignToken(t, func(c *gatepass.Claims) {
			c.Issuer = "https://evil.example"
		})),
		wantStatus:    http.StatusUnauthorized,
		wantError:     "invalid_token",
		wantChallenge: challengeInvalid + `"token issuer is not accepted"`,
	}, {
		name:          "bad-signature",
		header:        bearerHeader(cs.access[:len(cs.access)-4] + "AAAA"),
		wantStatus:    http.StatusUnauthorized,
		wantError:     "invalid_token",
		wantChallenge: challengeInvalid + `"token signature is invalid"`,
	}, {
		name:          "signed-by-another-key",
		header:        bearerHeader(e.MustSignToken(t, nil, withForeignKey(t))),
		wantStatus:    http.StatusUnauthorized,
		wantError:     "invalid_token",
		wantChallenge: challengeInvalid + `"token signature is invalid"`,
	}, {
		name: "header-injection-in-username",
		header: bearerHeader(e.MustSignToken(t, func(c *gatepass.Claims) {
			c.Username = "mallory\r\nX-Auth-Subject: 1"
		})),
		wantStatus:    http.StatusUnauthorized,
		wantError:     "invalid_token",
		wantChallenge: challengeInvalid + `"token claims cannot be sent as headers"`,
	}, {
		name: "newline-in-scope",
		header: bearerHeader(e.MustSignToken(t, func(c *gatepass.Claims) {
			c.Scope = "profile\nadmin"
		})),
		wantStatus:    http.StatusUnauthorized,
		wantError:     "invalid_token",
		wantChallenge: challengeInvalid + `"token claims cannot be sent as headers"`,
	}, {
		name: "non-ascii-username",
		header: bearerHeader(e.MustSignToken(t, func(c *gatepass.Claims) {
			c.Username = "mallöry"
		})),
		wantStatus:    http.StatusUnauthorized,
		wantError:     "invalid_token",
		wantChallenge: challengeInvalid + `"token claims cannot be sent as headers"`,
	}, {
		name: "username-with-trailing-space",
		header: bearerHeader(e.MustSignToken(t, func(c *gatepass.Claims) {
			c.Username = testUser + " "
		})),
		wantStatus:    http.StatusUnauthorized,
		wantError:     "invalid_token",
		wantChallenge: challengeInvalid + `"token claims cannot be sent as headers"`,
	}, {
		name:         "scope-granted",
		query:        "?scope=profile",
		header:       http.Header{"Authorization": {bearer}},
		wantStatus:   http.StatusOK,
		wantIdentity: identity,
	}, {
		name:         "scopes-granted-space-separated",
		query:        "?scope=email+profile",
		header:       http.Header{"Cookie": {cookie}},
		wantStatus:   http.StatusOK,
		wantIdentity: identity,
	}, {
		name:          "scope-missing",
		query:         "?scope=admin",
		header:        http.Header{"Authorization": {bearer}},
		wantStatus:    http.StatusForbidden,
		wantError:     "insufficient_scope",
		wantChallenge: `Bearer realm="gatepass", error="insufficient_scope", scope="admin"`,
	}, {
		name:       "one-repeated-scope-missing",
		query:      "?scope=profile&scope=admin",
		header:     http.Header{"Authorization": {bearer}},
		wantStatus: http.StatusForbidden,
		wantError:  "insufficient_scope",
		wantChallenge: `Bearer realm="gatepass", error="insufficient_scope", ` +
			`scope="profile admin"`,
	}, {
		name:  "scope-granted-to-signed-token",
		query: "?scope=admin",
		header: bearerHeader(e.MustSignToken(t, func(c *gatepass.Claims) {
			c.Scope = "profile admin"
		})),
		wantStatus:   http.StatusOK,
		wantIdentity: admin,
	}, {
		name:       "scope-with-quote",
		query:      "?scope=ad%22min",
		header:     http.Header{"Authorization": {bearer}},
		wantStatus: http.StatusBadRequest,
		wantError:  "invalid_request",
	}, {
		name:       "query-malformed",
		query:      "?scope=%zz",
		header:     http.Header{"Authorization": {bearer}},
		wantStatus: http.StatusBadRequest,
		wantError:  "invalid_request",
	}, {
		name:          "scope-checked-after-token",
		query:         "?scope=admin",
		wantStatus:    http.StatusUnauthorized,
		wantError:     "unauthorized",
		wantChallenge: challengeMissing,
	}, {
		name: "cookie-post-with-csrf-token",
		header: http.Header{"Cookie": {cookie}, "X-Original-Method": {"POST"},
			"X-Csrf-Token": {cs.csrf}, "Origin": {testIssuer}},
		wantStatus:   http.StatusOK,
		wantIdentity: identity,
	}, {
		name: "cookie-post-without-csrf-token",
		header: http.Header{"Cookie": {cookie}, "X-Original-Method": {"POST"},
			"Origin": {testIssuer}},
		wantStatus: http.StatusForbidden,
		wantError:  "invalid_request",
		wantDesc:   tokenFailed,
	}, {
		name: "cookie-post-with-wrong-csrf-token",
		header: http.Header{"Cookie": {cookie}, "X-Original-Method": {"POST"},
			"X-Csrf-Token": {strings.Repeat("A", 43)}},
		wantStatus: http.StatusForbidden,
		wantError:  "invalid_request",
		wantDesc:   tokenFailed,
	}, {
		name: "cookie-post-from-foreign-origin",
		header: http.Header{"Cookie": {cookie}, "X-Original-Method": {"POST"},
			"X-Csrf-Token": {cs.csrf}, "Origin": {"https://evil.example"}},
		wantStatus: http.StatusForbidden,
		wantError:  "invalid_request",
		wantDesc:   originFailed,
	}, {
		name: "cookie-delete-cross-site-fetch",
		header: http.Header{"Cookie": {cookie}, "X-Forwarded-Method": {"DELETE"},
			"X-Csrf-Token": {cs.csrf}, "Sec-Fetch-Site": {"cross-site"}},
		wantStatus: http.StatusForbidden,
		wantError:  "invalid_request",
		wantDesc:   originFailed,
	}, {
		name: "cookie-put-forwarded-by-traefik",
		header: http.Header{"Cookie": {cookie}, "X-Forwarded-Method": {"PUT"},
			"X-Csrf-Token": {cs.csrf}},
		wantStatus:   http.StatusOK,
		wantIdentity: identity,
	}, {
		name: "client-cannot-downgrade-method",
		header: http.Header{"Cookie": {cookie}, "X-Original-Method": {"POST"},
			"X-Forwarded-Method": {"GET"}},
		wantStatus: http.StatusForbidden,
		wantError:  "invalid_request",
		wantDesc:   tokenFailed,
	}, {
		name: "method-names-are-case-sensitive",
		header: http.Header{"Cookie": {cookie}, "X-Original-Method": {"get"},
			"Origin": {"https://evil.example"}},
		wantStatus: http.StatusForbidden,
		wantError:  "invalid_request",
		wantDesc:   originFailed,
	}, {
		name: "cookie-get-from-foreign-origin",
		header: http.Header{"Cookie": {cookie}, "X-Original-Method": {"GET"},
			"Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"}},
		wantStatus:   http.StatusOK,
		wantIdentity: identity,
	}, {
		name: "bearer-post-from-foreign-origin",
		header: http.Header{"Authorization": {bearer}, "X-Original-Method": {"POST"},
			"Origin": {"https://evil.example"}},
		wantStatus:   http.StatusOK,
		wantIdentity: identity,
	}, {
		name: "no-token-post-from-foreign-origin",
		header: http.Header{"X-Original-Method": {"POST"},
			"Origin": {"https://evil.example"}},
		wantStatus: http.StatusForbidden,
		wantError:  "invalid_request",
		wantDesc:   originFailed,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			res := e.Do(t, method, "/auth/verify"+tt.query, "", "", tt.header)

			if diff := cmp.Diff(authHeaders(res.header), tt.wantIdentity); diff != "" {
				t.Errorf("identity headers (-got +want):\n%s", diff)
			}
			if tt.wantStatus == http.StatusOK {
				wantVerified(t, res)
				return
			}
			wantError(t, res, tt.wantStatus, tt.wantError)
			wantPageHeaders(t, res)
			if got := res.String(t, "error_description"); !strings.HasPrefix(got,
				tt.wantDesc) {
				t.Errorf("error_description = %q, want %q...", got, tt.wantDesc)
			}
			if got := res.header.Get("WWW-Authenticate"); got != tt.wantChallenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tt.wantChallenge)
			}
		})
	}

	// Rejections are logged, without the token or the cookies.
	logs := e.logs.String()
	for _, want := range []string{
		`level=DEBUG msg="access token rejected" component=httpapi ` +
			`reason="token audience is not accepted" route="GET /auth/verify"`,
		`level=DEBUG msg="access token rejected" component=httpapi ` +
			`reason=claims_not_header_safe route="GET /auth/verify"`,
		`level=WARN msg="forward-auth scope refused" component=httpapi ` +
			`reason=insufficient_scope route="GET /auth/verify" sub=` + sub +
			` required_scope="profile admin"`,
		`level=WARN msg="cross-site request refused" component=httpapi ` +
			`reason=csrf_token_missing route="GET /auth/verify"`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %s:\n%s", want, logs)
		}
	}
	for _, secret := range []string{cs.access, cs.csrf, cs.refresh} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds a token or cookie value")
		}
	}
}

// TestForwardAuthWithoutDatabase checks that forward-auth answers from the token
// alone: with the database closed, the account endpoint fails and forward-auth
// still admits the token.
func TestForwardAuthWithoutDatabase(t *testing.T) {
	e := MustStartEnv(t)
	u := e.MustCreateUser(t, testUser, "")
	tok := e.MustLogin(t, testUser)
	if err := e.db.Close(); err != nil {
		t.Fatalf("close db: %v", err)
	}

	res := e.Get(t, "/auth/me", tok.AccessToken)
	if res.status != http.StatusInternalServerError {
		t.Fatalf("GET /auth/me with the database closed: status %d, body %s", res.status,
			res.body)
	}

	res = e.Get(t, "/auth/verify", tok.AccessToken)
	wantVerified(t, res)
	if got, want := res.header.Get("X-Auth-Subject"), strconv.FormatInt(u.ID, 10); got != want {
		t.Errorf("X-Auth-Subject = %q, want %q", got, want)
	}
}

// TestForwardAuthRevokedSession documents the trade-off of a local check: a
// signed-out session's access token is admitted until it expires, and no longer.
func TestForwardAuthRevokedSession(t *testing.T) {
	e := MustStartEnv(t)
	e.MustCreateUser(t, testUser, "")
	cs := e.MustCookieLogin(t, testUser)
	err := e.svc.RevokeSession(context.Background(), cs.body.SessionID, gatepass.RevokeLogout)
	if err != nil {
		t.Fatal(err)
	}

	wantVerified(t, e.Get(t, "/auth/verify", cs.access))

	e.clock.Advance(e.svc.Config().AccessTTL + e.svc.Config().Leeway + 1)
	res := e.Get(t, "/auth/verify", cs.access)
	wantError(t, res, http.StatusUnauthorized, "invalid_token")
	wantPageHeaders(t, res)
	if got := authHeaders(res.header); got != nil {
		t.Errorf("identity headers on a 401: %v", got)
	}
}

// testSignedSession is the "sid" claim of tokens MustSignToken signs.
const testSignedSession = "signed-by-the-test"

// signOption changes how MustSignToken signs.
type signOption func(*gatepass.SigningKey)

// withForeignKey signs with a new key that claims the server's key ID.
func withForeignKey(tb testing.TB) signOption {
	tb.Helper()
	return func(k *gatepass.SigningKey) {
		foreign, err := token.GenerateKey(k.Algorithm, nil)
		if err != nil {
			tb.Fatalf("generate key: %v", err)
		}
		if k.Private, err = foreign.MarshalPrivate(); err != nil {
			tb.Fatalf("marshal key: %v", err)
		}
	}
}

// MustSignToken signs an access token with the server's current key, for the
// test user and a made-up session, valid from now. edit, if not nil, changes the
// claims first, so a test can present tokens the service would never issue.
func (e *testEnv) MustSignToken(tb testing.TB, edit func(*gatepass.Claims),
	opts ...signOption) string {
	tb.Helper()
	ctx := context.Background()

	// Take the user and the current key from the store, as the service does.
	var u *gatepass.User
	var key *gatepass.SigningKey
	err := e.db.View(ctx, func(tx gatepass.Tx) error {
		var err error
		if u, err = tx.FindUserByName(ctx, testUser); err != nil {
			return err
		}
		keys, err := tx.FindKeys(ctx)
		for _, k := range keys {
			if k.Current() {
				key = k
			}
		}
		return err
	})
	if err != nil || key == nil {
		tb.Fatalf("find user and signing key: %v", err)
	}
	for _, o := range opts {
		o(key)
	}
	k, err := token.ParseKey(key.ID, key.Algorithm, key.Private)
	if err != nil {
		tb.Fatalf("parse key: %v", err)
	}
	signer, err := token.NewSigner(k)
	if err != nil {
		tb.Fatalf("new signer: %v", err)
	}

	cfg, now := e.svc.Config(), e.clock.Now()
	c := &gatepass.Claims{
		Issuer:    cfg.Issuer,
		Subject:   strconv.FormatInt(u.ID, 10),
		Audience:  gatepass.Audience{cfg.Audience},
		ExpiresAt: now.Add(cfg.AccessTTL).Unix(),
		IssuedAt:  now.Unix(),
		NotBefore: now.Unix(),
		ID:        "test-jti",
		SessionID: testSignedSession,
		Scope:     "profile email",
		ClientID:  cfg.ClientID,
		Username:  u.Name,
	}
	if edit != nil {
		edit(c)
	}
	tok, err := signer.Sign(c)
	if err != nil {
		tb.Fatalf("sign: %v", err)
	}
	return tok
}

// bearerHeader returns a header with tok as the bearer token.
func bearerHeader(tok string) http.Header {
	return http.Header{"Authorization": {"Bearer " + tok}}
}

// authHeaders returns the X-Auth-* headers of h, nil if there are none.
func authHeaders(h http.Header) http.Header {
	var got http.Header
	for k, v := range h {
		if strings.HasPrefix(k, "X-Auth-") {
			if got == nil {
				got = http.Header{}
			}
			got[k] = v
		}
	}
	return got
}

// wantVerified checks that r admits the request: 200, an empty body, and not
// cacheable, since the answer names a user.
func wantVerified(tb testing.TB, r *response) {
	tb.Helper()
	if r.status != http.StatusOK {
		tb.Errorf("status = %d, want 200 (body %s)", r.status, r.body)
	}
	if len(r.body) != 0 {
		tb.Errorf("body = %q, want none", r.body)
	}
	if got := r.header.Get("Cache-Control"); got != "no-store" {
		tb.Errorf("Cache-Control = %q, want no-store", got)
	}
	if got := r.header.Get("X-Content-Type-Options"); got != "nosniff" {
		tb.Errorf("X-Content-Type-Options = %q, want nosniff", got)
	}
	for _, name := range pageHeaders {
		if got, ok := r.header[name]; ok {
			tb.Errorf("%s = %q on an answer only the proxy reads, want none", name, got)
		}
	}
}

// pageHeaders guard a page a browser shows. A forward-auth 200 goes to the
// proxy alone, so it leaves them out; its refusals, which Traefik and Caddy
// hand to the browser, keep them.
var pageHeaders = []string{"Referrer-Policy", "X-Frame-Options"}

// wantPageHeaders checks that r carries the headers that guard a page.
func wantPageHeaders(tb testing.TB, r *response) {
	tb.Helper()
	want := http.Header{"Referrer-Policy": {"no-referrer"}, "X-Frame-Options": {"DENY"}}
	got := http.Header{}
	for _, name := range pageHeaders {
		if v, ok := r.header[name]; ok {
			got[name] = v
		}
	}
	if diff := cmp.Diff(got, want); diff != "" {
		tb.Errorf("page headers (-got +want):\n%s", diff)
	}
}
