package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/gatepass/gatepass/web"
	"github.com/google/go-cmp/cmp"
)

// maxBody is the server's default body limit.
const maxBody = 64 << 10

// tokenRoutes are the routes whose answers carry, set or judge a token. Every
// answer of theirs, success or error, must say Cache-Control: no-store.
var tokenRoutes = []string{
	"POST /oauth/token", "POST /oauth/revoke", "POST /oauth/introspect",
	"POST /auth/login", "POST /auth/signup", "POST /auth/refresh", "POST /auth/logout",
	"GET /auth/me", "GET /auth/sessions", "DELETE /auth/sessions/{id}", "GET /auth/verify",
	"POST /api/token/{$}", "POST /api/token/refresh/{$}", "POST /api/token/verify/{$}",
	"POST /api/token/blacklist/{$}",
}

// goErrorText is text that only a Go error, a stack trace or a database
// driver's message would put in an answer.
var goErrorText = []string{
	"goroutine", ".go:", "runtime error", "panic", "sql:", "pq:", "sqlite", "SQLSTATE",
	"pgx", "invalid character", "unexpected EOF", "json: ", "strconv.", "http: ",
	"multipart: ", "mime: ", "*errors.", "<nil>", "%!",
}

// probe is one request to a route, on the path of patternRequest unless path
// is set. A valid request must get a 2xx, or status when it is set.
type probe struct {
	name        string
	path        string
	contentType string
	body        string
	header      http.Header
	status      int
}

// TestHygiene walks every registered route with a valid request and a set of
// hostile ones, and checks every answer: X-Content-Type-Options: nosniff;
// Cache-Control: no-store on the routes that deal in tokens; no Go error text,
// stack trace or driver message in an error body; and 413 for a body over the
// limit on every POST route.
func TestHygiene(t *testing.T) {
	e := MustOpenEnv(t, envOptions{signUp: true, introspectionSecret: testSecret})
	e.api.Metrics = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		w.Write([]byte("# no metrics\n"))
	})
	e = enableSimpleJWT(t, e)
	e.MustCreateUser(t, testUser, testEmail)
	valid := hygieneRequests(t, e)

	// Every route has a valid request, and nothing else does.
	var got []string
	for pattern := range valid {
		got = append(got, pattern)
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(e.api.Patterns()))
	if diff := cmp.Diff(got, want); diff != "" {
		t.Fatalf("routes without a valid request here (-got +want):\n%s", diff)
	}

	for _, pattern := range want {
		method, path := patternRequest(pattern)
		probes := append([]probe{valid[pattern]}, hostileProbes...)
		for _, p := range probes {
			at := path
			if p.path != "" {
				at = p.path
			}
			res := e.Do(t, method, at, p.contentType, p.body, p.header)
			checkHygiene(t, pattern, p.name, res)
			if p.name == "valid" && (p.status == 0 && res.status/100 != 2 ||
				p.status != 0 && res.status != p.status) {
				t.Errorf("%s: valid request: status %d, body %s", pattern, res.status,
					res.body)
			}
		}
		if method != http.MethodPost {
			continue
		}

		res := e.Do(t, method, path, valid[pattern].contentType,
			strings.Repeat("a", maxBody+1), valid[pattern].header)
		if res.status != http.StatusRequestEntityTooLarge {
			t.Errorf("%s: oversized body: status %d, want 413 (body %s)", pattern,
				res.status, res.body)
		}
		checkHygiene(t, pattern, "oversized", res)
	}
}

// hostileProbes are sent to every route: no credentials, bad ones, and bodies
// no endpoint accepts.
var hostileProbes = []probe{
	{name: "bare"},
	{name: "bad-bearer", header: http.Header{"Authorization": {"Bearer not.a.token"}}},
	{name: "bad-basic", header: http.Header{"Authorization": {"Basic !!!"}}},
	{name: "bad-cookies", header: http.Header{
		"Cookie": {"__Host-gatepass_access=x; __Secure-gatepass_refresh=y; " +
			"__Host-gatepass_csrf=z"},
		"X-Csrf-Token": {"z"}}},
	{name: "planted-cookies", header: http.Header{
		"Cookie": {"__Host-gatepass_access=x; __Host-gatepass_access=y; " +
			"__Host-gatepass_csrf=z; __Host-gatepass_csrf=z"},
		"X-Csrf-Token": {"z"}}},
	{name: "truncated-json", contentType: jsonType, body: `{"token":"a`},
	{name: "json-array", contentType: jsonType, body: `[1, {"token": null}]`},
	{name: "bad-form", contentType: formType, body: "token=%zz&a=1&a=2"},
	{name: "bad-multipart", contentType: "multipart/form-data; boundary=x", body: "--x\r\n"},
	{name: "bad-content-type", contentType: `text/plain; charset="`, body: "token=a"},
	{name: "foreign-origin", header: http.Header{"Origin": {"https://evil.example.test"},
		"Sec-Fetch-Site": {"cross-site"}}},
}

// checkHygiene checks the headers and body of one answer.
func checkHygiene(t *testing.T, pattern, probe string, r *response) {
	t.Helper()
	if r.status >= 500 {
		t.Errorf("%s %s: status %d, body %s", pattern, probe, r.status, r.body)
	}
	if got := r.header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("%s %s: X-Content-Type-Options = %q, want nosniff", pattern, probe, got)
	}
	if slices.Contains(tokenRoutes, pattern) &&
		!strings.Contains(r.header.Get("Cache-Control"), "no-store") {
		t.Errorf("%s %s: status %d, Cache-Control = %q, want no-store", pattern, probe,
			r.status, r.header.Get("Cache-Control"))
	}
	if r.status < 400 {
		return
	}

	if got := r.header.Get("Content-Type"); got != "application/json" {
		t.Errorf("%s %s: error Content-Type = %q, want application/json", pattern, probe, got)
	}
	for _, s := range goErrorText {
		if strings.Contains(string(r.body), s) {
			t.Errorf("%s %s: error body holds %q: %s", pattern, probe, s, r.body)
		}
	}
}

// patternRequest returns the method and a path that a route's pattern matches.
func patternRequest(pattern string) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	path = strings.NewReplacer("{$}", "", "{path...}", "tenant",
		"{id}", "some-session").Replace(path)
	return method, path
}

// hygieneRequests returns a valid request for each route, with the credentials
// it needs. Each state change gets a session of its own.
func hygieneRequests(t *testing.T, e *testEnv) map[string]probe {
	t.Helper()
	bearer := func(tok string) http.Header {
		return http.Header{"Authorization": {"Bearer " + tok}}
	}
	form := func(v url.Values, h http.Header) probe {
		return probe{name: "valid", contentType: formType, body: v.Encode(), header: h}
	}
	jsonBody := func(v map[string]string) probe {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return probe{name: "valid", contentType: jsonType, body: string(b)}
	}
	get := func(h http.Header) probe {
		return probe{name: "valid", header: h}
	}
	tokens := e.MustLogin(t, testUser)
	other := e.MustLogin(t, testUser)
	rotating, blacklisted := e.MustLogin(t, testUser), e.MustLogin(t, testUser)
	refreshing, leaving := e.MustCookieLogin(t, testUser), e.MustCookieLogin(t, testUser)
	introspect := http.Header{"Authorization": {basicAuth("rs", testSecret)}}
	sid := e.Get(t, "/auth/me", other.AccessToken).String(t, "session_id")

	return map[string]probe{
		"POST /oauth/token": form(url.Values{"grant_type": {"password"},
			"username": {testUser}, "password": {testPassword}}, nil),
		"POST /oauth/revoke": form(url.Values{"token": {other.RefreshToken}}, nil),
		"POST /oauth/introspect": form(url.Values{"token": {tokens.AccessToken}},
			introspect),
		"GET /.well-known/jwks.json":                  get(nil),
		"GET /.well-known/oauth-authorization-server": get(nil),
		"GET /.well-known/oauth-authorization-server/{path...}": {name: "valid",
			status: http.StatusNotFound}, // served only under the issuer's path
		"POST /auth/login": form(url.Values{"username": {testUser},
			"password": {testPassword}}, nil),
		"POST /auth/signup": form(url.Values{"username": {"carol"},
			"password": {"carol-password-1"}, "email": {"carol@example.test"}}, nil),
		"POST /auth/refresh": {name: "valid", header: refreshing.Header()},
		"POST /auth/logout":  {name: "valid", header: leaving.Header()},
		"GET /auth/me":       get(bearer(tokens.AccessToken)),
		"GET /auth/sessions": get(bearer(tokens.AccessToken)),
		"DELETE /auth/sessions/{id}": {name: "valid", path: "/auth/sessions/" + sid,
			header: bearer(tokens.AccessToken)},
		"GET /auth/verify": get(bearer(tokens.AccessToken)),
		"POST /api/token/{$}": jsonBody(map[string]string{"username": testUser,
			"password": testPassword}),
		"POST /api/token/refresh/{$}": jsonBody(map[string]string{
			"refresh": rotating.RefreshToken}),
		"POST /api/token/verify/{$}": jsonBody(map[string]string{
			"token": tokens.AccessToken}),
		"POST /api/token/blacklist/{$}": jsonBody(map[string]string{
			"refresh": blacklisted.RefreshToken}),
		"GET /healthz":      get(nil),
		"GET /readyz":       get(nil),
		"GET /metrics":      get(nil),
		"GET /openapi.json": get(nil),
	}
}

// TestDemoPagesPolicy checks the Content-Security-Policy of the demo pages as
// the server sends them: scripts, styles and connections from the page's own
// origin only, nothing inline or evaluated, no plugins, no framing, no base
// URL or form target elsewhere.
func TestDemoPagesPolicy(t *testing.T) {
	e := MustOpenEnv(t, envOptions{fallback: web.Handler()})
	want := map[string]string{
		"default-src": "'self'", "script-src": "'self'", "style-src": "'self'",
		"img-src": "'self'", "connect-src": "'self'", "object-src": "'none'",
		"base-uri": "'none'", "form-action": "'self'", "frame-ancestors": "'none'",
	}

	for _, path := range append(web.Paths(), "/no-such-page") {
		res := e.Get(t, path, "")
		if got := res.header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options = %q, want nosniff", path, got)
		}
		policy := res.header.Get("Content-Security-Policy")
		got := map[string]string{}
		for _, d := range strings.Split(policy, ";") {
			name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
			got[name] = value
		}
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("%s: Content-Security-Policy %q (-got +want):\n%s", path, policy, diff)
		}
		for _, weak := range []string{"unsafe-", "*", "data:", "http:", "https:", "blob:"} {
			if strings.Contains(policy, weak) {
				t.Errorf("%s: Content-Security-Policy allows %q: %s", path, weak, policy)
			}
		}
	}
}
