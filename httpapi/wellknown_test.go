package httpapi_test

import (
	"encoding/json"
	"net/http"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestMetadata compares the RFC 8414 document, for an issuer with a path, with
// testdata/oauth-authorization-server.json.
func TestMetadata(t *testing.T) {
	e := MustOpenEnv(t, envOptions{issuer: "https://id.example.test/tenant"})
	golden, err := os.ReadFile("testdata/oauth-authorization-server.json")
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]any
	if err := json.Unmarshal(golden, &want); err != nil {
		t.Fatal(err)
	}

	// Served at the well-known path and, per RFC 8414 section 3.1, with the
	// issuer's path appended.
	for _, path := range []string{
		"/.well-known/oauth-authorization-server",
		"/.well-known/oauth-authorization-server/tenant",
	} {
		res := e.Get(t, path, "")
		if diff := cmp.Diff(res.JSON(t), want); diff != "" || res.status != http.StatusOK {
			t.Errorf("GET %s: status %d, body (-got +want):\n%s", path, res.status, diff)
		}
		if got := res.header.Get("Content-Type"); got != "application/json" {
			t.Errorf("Content-Type = %q", got)
		}
		if got := res.header.Get("Cache-Control"); got != "public, max-age=3600" {
			t.Errorf("Cache-Control = %q", got)
		}
	}

	res := e.Get(t, "/.well-known/oauth-authorization-server/other", "")
	if res.status != http.StatusNotFound || res.String(t, "error") != "not_found" {
		t.Errorf("metadata for another issuer path: status %d, body %s", res.status, res.body)
	}
}

// TestJWKS checks the published key set.
func TestJWKS(t *testing.T) {
	e := MustStartEnv(t)
	res := e.Get(t, "/.well-known/jwks.json", "")

	if res.status != http.StatusOK || string(res.body) != string(e.svc.JWKS()) {
		t.Errorf("GET /.well-known/jwks.json: status %d, body %s", res.status, res.body)
	}
	if got := res.header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q", got)
	}
	if got := res.header.Get("Cache-Control"); got != "public, max-age=60" {
		t.Errorf("Cache-Control = %q", got)
	}

	// Only public members are published.
	var set struct{ Keys []map[string]any }
	if err := json.Unmarshal(res.body, &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("JWKS %s: %v", res.body, err)
	}
	for member := range set.Keys[0] {
		switch member {
		case "kty", "crv", "x", "y", "kid", "alg", "use":
		default:
			t.Errorf("JWK has member %q", member)
		}
	}
}

// TestHealth checks liveness and readiness, including a database that is gone.
func TestHealth(t *testing.T) {
	e := MustStartEnv(t)

	if res := e.Get(t, "/healthz", ""); res.status != http.StatusOK ||
		string(res.body) != "{\"status\":\"ok\"}\n" {
		t.Errorf("GET /healthz: status %d, body %s", res.status, res.body)
	}
	if res := e.Get(t, "/readyz", ""); res.status != http.StatusOK ||
		string(res.body) != "{\"status\":\"ready\"}\n" {
		t.Errorf("GET /readyz: status %d, body %s", res.status, res.body)
	}

	// Without a database the instance is alive but not ready.
	e.db.Close()
	if res := e.Get(t, "/healthz", ""); res.status != http.StatusOK {
		t.Errorf("GET /healthz without a database: status %d", res.status)
	}
	if res := e.Get(t, "/readyz", ""); res.status != http.StatusServiceUnavailable ||
		string(res.body) != "{\"status\":\"unavailable\"}\n" {
		t.Errorf("GET /readyz without a database: status %d, body %s", res.status, res.body)
	}
}

// TestUnknownRoutes checks the JSON 404 and 405 answers and the headers every
// response carries.
func TestUnknownRoutes(t *testing.T) {
	e := MustStartEnv(t)
	tests := []struct {
		name       string
		method     string
		path       string
		wantStatus int
		wantError  string
		wantAllow  string
	}{
		{name: "unknown-path", method: http.MethodGet, path: "/nope",
			wantStatus: http.StatusNotFound, wantError: "not_found"},
		{name: "root", method: http.MethodGet, path: "/",
			wantStatus: http.StatusNotFound, wantError: "not_found"},
		{name: "get-token", method: http.MethodGet, path: "/oauth/token",
			wantStatus: http.StatusMethodNotAllowed, wantError: "method_not_allowed",
			wantAllow: "POST"},
		{name: "post-jwks", method: http.MethodPost, path: "/.well-known/jwks.json",
			wantStatus: http.StatusMethodNotAllowed, wantError: "method_not_allowed",
			wantAllow: "GET, HEAD"},
		{name: "delete-me", method: http.MethodDelete, path: "/auth/me",
			wantStatus: http.StatusMethodNotAllowed, wantError: "method_not_allowed",
			wantAllow: "GET, HEAD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.Do(t, tt.method, tt.path, "", "", nil)
			if res.status != tt.wantStatus || res.String(t, "error") != tt.wantError {
				t.Errorf("status %d, body %s, want %d %s", res.status, res.body,
					tt.wantStatus, tt.wantError)
			}
			if got := res.header.Get("Allow"); got != tt.wantAllow {
				t.Errorf("Allow = %q, want %q", got, tt.wantAllow)
			}
			wantSecurityHeaders(t, res)
		})
	}
}

// TestFallback checks that the fallback answers only GET and HEAD requests for
// paths no API route serves, and that its answers get the security headers.
func TestFallback(t *testing.T) {
	fallback := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("fallback"))
	})
	e := MustOpenEnv(t, envOptions{fallback: fallback})
	tests := []struct {
		name       string
		method     string
		path       string
		wantStatus int
		wantBody   string
		wantError  string
	}{
		{name: "get-root", method: http.MethodGet, path: "/",
			wantStatus: http.StatusOK, wantBody: "fallback"},
		{name: "get-page", method: http.MethodGet, path: "/account",
			wantStatus: http.StatusOK, wantBody: "fallback"},
		{name: "head-root", method: http.MethodHead, path: "/",
			wantStatus: http.StatusOK},
		{name: "post-root", method: http.MethodPost, path: "/",
			wantStatus: http.StatusNotFound, wantError: "not_found"},
		{name: "get-api-route", method: http.MethodGet, path: "/auth/me",
			wantStatus: http.StatusUnauthorized, wantError: "unauthorized"},
		{name: "get-post-only-route", method: http.MethodGet, path: "/auth/login",
			wantStatus: http.StatusMethodNotAllowed, wantError: "method_not_allowed"},
		{name: "delete-unknown", method: http.MethodDelete, path: "/account",
			wantStatus: http.StatusNotFound, wantError: "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.Do(t, tt.method, tt.path, "", "", nil)
			if res.status != tt.wantStatus {
				t.Errorf("status %d, want %d; body %s", res.status, tt.wantStatus, res.body)
			}
			if tt.wantError != "" && res.String(t, "error") != tt.wantError {
				t.Errorf("body %s, want error %q", res.body, tt.wantError)
			} else if tt.wantError == "" && string(res.body) != tt.wantBody {
				t.Errorf("body %q, want %q", res.body, tt.wantBody)
			}
			wantSecurityHeaders(t, res)
		})
	}
}

// wantSecurityHeaders checks the headers every response carries.
func wantSecurityHeaders(tb testing.TB, res *response) {
	tb.Helper()
	for k, v := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
		"X-Frame-Options":        "DENY",
	} {
		if got := res.header.Get(k); got != v {
			tb.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}
