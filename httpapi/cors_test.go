package httpapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/gatepass/gatepass/httpapi"
)

const (
	appOrigin  = "https://app.example.test"
	evilOrigin = "https://evil.example"
)

// corsHeaders are the response headers CORS is about.
var corsHeaders = []string{
	"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials",
	"Access-Control-Allow-Methods", "Access-Control-Allow-Headers",
	"Access-Control-Max-Age", "Access-Control-Expose-Headers",
}

// checkHeaders compares the CORS headers of r with want; absent ones must be
// absent.
func checkHeaders(tb testing.TB, r *response, want map[string]string) {
	tb.Helper()
	for _, k := range corsHeaders {
		if got := r.header.Values(k); strings.Join(got, ",") != want[k] {
			tb.Errorf("%s = %q, want %q", k, got, want[k])
		}
	}
}

// TestCORS checks that configured origins, and only they, may read answers with
// credentials, and how preflights are answered.
func TestCORS(t *testing.T) {
	e := MustOpenEnv(t, envOptions{corsOrigins: []string{appOrigin, "http://[::1]:3000"}})
	e.MustCreateUser(t, testUser, "")
	allowed := map[string]string{
		"Access-Control-Allow-Origin":      appOrigin,
		"Access-Control-Allow-Credentials": "true",
		"Access-Control-Expose-Headers":    "Retry-After, WWW-Authenticate, Date",
	}

	// An allowed origin may read the answer, errors included.
	for _, path := range []string{"/healthz", "/auth/me"} {
		res := e.Do(t, http.MethodGet, path, "", "", http.Header{"Origin": {appOrigin}})
		checkHeaders(t, res, allowed)
		if !slices.Contains(res.header.Values("Vary"), "Origin") {
			t.Errorf("GET %s: Vary = %q, want Origin", path, res.header.Values("Vary"))
		}
	}

	// Another origin gets no CORS header, and nor does a request without one.
	for _, h := range []http.Header{{"Origin": {evilOrigin}}, {"Origin": {"null"}},
		{"Origin": {"https://app.example.test.evil.example"}}, {}} {
		res := e.Do(t, http.MethodGet, "/healthz", "", "", h)
		checkHeaders(t, res, nil)
		if res.status != http.StatusOK {
			t.Errorf("GET /healthz with %v: status %d", h, res.status)
		}
	}

	// A preflight from an allowed origin is 204 with the fixed lists.
	preflight := http.Header{"Origin": {appOrigin},
		"Access-Control-Request-Method":  {"POST"},
		"Access-Control-Request-Headers": {"content-type,x-csrf-token"}}
	res := e.Do(t, http.MethodOptions, "/auth/refresh", "", "", preflight)
	if res.status != http.StatusNoContent || len(res.body) != 0 {
		t.Errorf("allowed preflight: status %d, body %q", res.status, res.body)
	}
	checkHeaders(t, res, map[string]string{
		"Access-Control-Allow-Origin":      appOrigin,
		"Access-Control-Allow-Credentials": "true",
		"Access-Control-Expose-Headers":    "Retry-After, WWW-Authenticate, Date",
		"Access-Control-Allow-Methods":     "GET, POST, DELETE",
		"Access-Control-Allow-Headers":     "Authorization, Content-Type, X-CSRF-Token",
		"Access-Control-Max-Age":           "600",
	})

	// A preflight from another origin is 403 without CORS headers.
	preflight.Set("Origin", evilOrigin)
	res = e.Do(t, http.MethodOptions, "/auth/refresh", "", "", preflight)
	wantError(t, res, http.StatusForbidden, "invalid_request")
	checkHeaders(t, res, nil)

	// An OPTIONS request that is no preflight is an ordinary unrouted method.
	res = e.Do(t, http.MethodOptions, "/auth/refresh", "", "", nil)
	if res.status != http.StatusMethodNotAllowed {
		t.Errorf("plain OPTIONS: status %d", res.status)
	}

	// An allowed origin passes the CSRF origin check, and the IPv6 origin matches
	// in the form browsers send.
	cs := e.MustCookieLogin(t, testUser)
	for _, origin := range []string{appOrigin, "http://[::1]:3000"} {
		h := cs.Header()
		h.Set("Origin", origin)
		res = e.Do(t, http.MethodPost, "/auth/refresh", "", "", h)
		cs = e.MustCookieSession(t, res, http.StatusOK)
		if got := res.header.Get("Access-Control-Allow-Origin"); got != origin {
			t.Errorf("refresh from %s: Access-Control-Allow-Origin = %q", origin, got)
		}
	}
}

// TestCORSOff checks that without configured origins nothing is allowed and no
// Vary is added.
func TestCORSOff(t *testing.T) {
	e := MustStartEnv(t)
	res := e.Do(t, http.MethodGet, "/healthz", "", "", http.Header{"Origin": {appOrigin}})
	checkHeaders(t, res, nil)
	if got := res.header.Values("Vary"); len(got) != 0 {
		t.Errorf("Vary = %q", got)
	}
	res = e.Do(t, http.MethodOptions, "/auth/login", "", "", http.Header{
		"Origin": {appOrigin}, "Access-Control-Request-Method": {"POST"}})
	wantError(t, res, http.StatusForbidden, "invalid_request")
}

func TestParseOrigin(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr string
	}{
		{name: "https", in: "https://app.example.test", want: "https://app.example.test"},
		{name: "port", in: "http://localhost:3000", want: "http://localhost:3000"},
		{name: "upper-case", in: "HTTPS://App.Example.TEST", want: "https://app.example.test"},
		{name: "default-https-port", in: "https://a.example:443", want: "https://a.example"},
		{name: "default-http-port", in: "http://a.example:80", want: "http://a.example"},
		{name: "other-port", in: "https://a.example:80", want: "https://a.example:80"},
		{name: "ipv6", in: "http://[::1]:8080", want: "http://[::1]:8080"},
		{name: "ipv4", in: "http://127.0.0.1", want: "http://127.0.0.1"},
		{name: "wildcard", in: "*", wantErr: `"*" is not allowed`},
		{name: "null", in: "null", wantErr: "not an origin"},
		{name: "no-scheme", in: "app.example.test", wantErr: "not an origin"},
		{name: "ftp", in: "ftp://app.example.test", wantErr: "not an origin"},
		{name: "slash", in: "https://app.example.test/", wantErr: "no path"},
		{name: "path", in: "https://app.example.test/app", wantErr: "no path"},
		{name: "query", in: "https://app.example.test?x=1", wantErr: "no path"},
		{name: "empty-query", in: "https://app.example.test?", wantErr: "no path"},
		{name: "fragment", in: "https://app.example.test#x", wantErr: "no path"},
		{name: "user", in: "https://me@app.example.test", wantErr: "no path"},
		{name: "wildcard-host", in: "https://*.example.test", wantErr: "not an origin"},
		{name: "underscore", in: "https://a_b.example.test", wantErr: "bad host"},
		{name: "bad-port", in: "https://a.example:x", wantErr: "not an origin"},
		{name: "empty", in: "", wantErr: "not an origin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := httpapi.ParseOrigin(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("ParseOrigin(%q) = %q, %v; want an error with %q", tt.in, got,
						err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseOrigin(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

// TestValidate checks the settings the server refuses to start with.
func TestValidate(t *testing.T) {
	tests := []struct {
		name     string
		issuer   string
		insecure bool
		origins  []string
		wantErr  string
	}{
		{name: "defaults", issuer: testIssuer},
		{name: "origins", issuer: testIssuer, origins: []string{appOrigin}},
		{name: "wildcard", issuer: testIssuer, origins: []string{appOrigin, "*"},
			wantErr: `cors-origin: "*" is not allowed`},
		{name: "path", issuer: testIssuer, origins: []string{appOrigin + "/x"},
			wantErr: "cors-origin: "},
		{name: "insecure-public-issuer", issuer: testIssuer, insecure: true,
			wantErr: `insecure-cookies: allowed only when the issuer host is localhost, ` +
				`127.0.0.1 or [::1], not "id.example.test"`},
		{name: "insecure-lookalike", issuer: "http://localhost.example.test", insecure: true,
			wantErr: "insecure-cookies: "},
		{name: "insecure-localhost", issuer: "http://localhost:8080", insecure: true},
		{name: "insecure-ipv4", issuer: "http://127.0.0.1:8080/gatepass", insecure: true},
		{name: "insecure-ipv6", issuer: "http://[::1]:8080", insecure: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := MustOpenEnv(t, envOptions{issuer: tt.issuer})
			e.api.InsecureCookies = tt.insecure
			e.api.CORSOrigins = tt.origins
			err := e.api.Validate()
			if tt.wantErr == "" && err != nil {
				t.Errorf("Validate() = %v, want nil", err)
			} else if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(),
				tt.wantErr)) {
				t.Errorf("Validate() = %v, want an error with %q", err, tt.wantErr)
			}
		})
	}
}
