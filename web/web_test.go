package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gatepass/gatepass/auth"
	"github.com/gatepass/gatepass/httpapi"
	"github.com/gatepass/gatepass/password"
	"github.com/gatepass/gatepass/sqlite"
	"github.com/gatepass/gatepass/web"
)

// response is an answer read in full.
type response struct {
	status int
	header http.Header
	body   string
}

// do sends one request to h and reads the answer.
func do(tb testing.TB, h http.Handler, method, path string, header http.Header) response {
	tb.Helper()
	req := httptest.NewRequest(method, path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body, err := io.ReadAll(rec.Result().Body)
	if err != nil {
		tb.Fatal(err)
	}
	return response{status: rec.Code, header: rec.Result().Header, body: string(body)}
}

func TestHandler(t *testing.T) {
	h := web.Handler()
	tests := []struct {
		name       string
		path       string
		wantStatus int
		wantType   string
		wantText   string
	}{
		{name: "sign-in-page", path: "/", wantStatus: http.StatusOK,
			wantType: "text/html; charset=utf-8", wantText: `<form id="signin"`},
		{name: "account-page", path: "/account", wantStatus: http.StatusOK,
			wantType: "text/html; charset=utf-8", wantText: `id="sessions"`},
		{name: "stylesheet", path: "/static/style.css", wantStatus: http.StatusOK,
			wantType: "text/css; charset=utf-8", wantText: ":focus-visible"},
		{name: "client", path: "/static/gatepass.js", wantStatus: http.StatusOK,
			wantType: "text/javascript; charset=utf-8", wantText: "createClient"},
		{name: "page-script", path: "/static/account.js", wantStatus: http.StatusOK,
			wantType: "text/javascript; charset=utf-8", wantText: "import"},
		{name: "icon", path: "/static/favicon.svg", wantStatus: http.StatusOK,
			wantType: "image/svg+xml", wantText: "<svg"},
		{name: "unknown", path: "/nope", wantStatus: http.StatusNotFound,
			wantType: "text/html; charset=utf-8", wantText: "Page not found"},
		{name: "page-with-slash", path: "/account/", wantStatus: http.StatusNotFound,
			wantType: "text/html; charset=utf-8"},
		{name: "page-file-name", path: "/static/index.html", wantStatus: http.StatusNotFound,
			wantType: "text/html; charset=utf-8"},
		{name: "static-dir", path: "/static/", wantStatus: http.StatusNotFound,
			wantType: "text/html; charset=utf-8"},
		{name: "dot-dot", path: "/static/../web.go", wantStatus: http.StatusNotFound,
			wantType: "text/html; charset=utf-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := do(t, h, http.MethodGet, tt.path, nil)
			if res.status != tt.wantStatus {
				t.Errorf("status %d, want %d", res.status, tt.wantStatus)
			}
			if got := res.header.Get("Content-Type"); got != tt.wantType {
				t.Errorf("Content-Type = %q, want %q", got, tt.wantType)
			}
			if !strings.Contains(res.body, tt.wantText) {
				t.Errorf("body does not contain %q", tt.wantText)
			}
			wantHeaders(t, res)
		})
	}
}

// wantHeaders checks the headers every answer of the handler carries.
func wantHeaders(tb testing.TB, res response) {
	tb.Helper()
	if got := res.header.Get("Content-Security-Policy"); got != web.ContentSecurityPolicy {
		tb.Errorf("Content-Security-Policy = %q", got)
	}
	if got := res.header.Get("X-Content-Type-Options"); got != "nosniff" {
		tb.Errorf("X-Content-Type-Options = %q", got)
	}
	if res.header.Get("Cache-Control") == "" {
		tb.Error("no Cache-Control")
	}
}

// TestContentSecurityPolicy checks that the policy is strict: nothing inline,
// nothing from elsewhere, no framing.
func TestContentSecurityPolicy(t *testing.T) {
	csp := web.ContentSecurityPolicy
	for _, want := range []string{"default-src 'self'", "script-src 'self'",
		"style-src 'self'", "frame-ancestors 'none'", "object-src 'none'",
		"base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("policy lacks %q: %s", want, csp)
		}
	}
	for _, bad := range []string{"unsafe-inline", "unsafe-eval", "*", "http:", "https:",
		"data:"} {
		if strings.Contains(csp, bad) {
			t.Errorf("policy allows %q: %s", bad, csp)
		}
	}
}

// TestPagesNeedNothingInline checks the pages against what the policy would
// block: inline scripts, event handler attributes and style attributes. Each
// local reference must be served.
func TestPagesNeedNothingInline(t *testing.T) {
	h := web.Handler()
	inline := regexp.MustCompile(`(?i)<script(?:\s[^>]*)?>\s*[^<\s]|\son[a-z]+\s*=|\sstyle\s*=|<style`)
	script := regexp.MustCompile(`(?i)<script\b[^>]*>`)
	ref := regexp.MustCompile(`(?:href|src)="([^"#:]+)"`)
	for _, page := range []string{"/", "/account", "/nope"} {
		body := do(t, h, http.MethodGet, page, nil).body
		if m := inline.FindString(body); m != "" {
			t.Errorf("%s: needs inline content the policy blocks: %q", page, m)
		}
		for _, tag := range script.FindAllString(body, -1) {
			if !strings.Contains(tag, `type="module"`) || !strings.Contains(tag, "src=") {
				t.Errorf("%s: script tag %s is not an external module", page, tag)
			}
		}
		for _, m := range ref.FindAllStringSubmatch(body, -1) {
			target := m[1]
			if strings.HasPrefix(target, ".well-known/") {
				continue // served by the API
			}
			if !strings.HasPrefix(target, "/") {
				target = "/" + strings.TrimPrefix(target, "./")
			}
			if res := do(t, h, http.MethodGet, target, nil); res.status != http.StatusOK {
				t.Errorf("%s: %s is %d", page, m[1], res.status)
			}
		}
	}
}

func TestHandler_methods(t *testing.T) {
	h := web.Handler()
	res := do(t, h, http.MethodHead, "/", nil)
	if res.status != http.StatusOK || res.body != "" {
		t.Errorf("HEAD /: status %d, %d bytes of body", res.status, len(res.body))
	}
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		res := do(t, h, method, "/", nil)
		if res.status != http.StatusMethodNotAllowed || res.header.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s /: status %d, Allow %q", method, res.status, res.header.Get("Allow"))
		}
	}
}

// TestHandler_revalidation checks that a file whose ETag the browser holds is
// answered 304, and that the ETag follows the content.
func TestHandler_revalidation(t *testing.T) {
	h := web.Handler()
	first := do(t, h, http.MethodGet, "/static/style.css", nil)
	etag := first.header.Get("ETag")
	if etag == "" || first.header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("ETag %q, Cache-Control %q", etag, first.header.Get("Cache-Control"))
	}
	again := do(t, h, http.MethodGet, "/static/style.css",
		http.Header{"If-None-Match": {etag}})
	if again.status != http.StatusNotModified {
		t.Errorf("with If-None-Match: status %d, want 304", again.status)
	}
	if other := do(t, h, http.MethodGet, "/static/account.js", nil); other.header.Get("ETag") == etag {
		t.Error("two different files share an ETag")
	}
}

func TestPaths(t *testing.T) {
	got := web.Paths()
	for _, want := range []string{"/", "/account", "/static/gatepass.js", "/static/style.css"} {
		if !strings.Contains(" "+strings.Join(got, " ")+" ", " "+want+" ") {
			t.Errorf("Paths() = %v, lacks %s", got, want)
		}
	}
}

// TestMounted serves the pages as serve --demo does, as the API server's
// fallback, and checks that every API route still wins.
func TestMounted(t *testing.T) {
	srv := httptest.NewServer(mustAPI(t).Handler())
	t.Cleanup(srv.Close)

	tests := []struct {
		name       string
		method     string
		path       string
		wantStatus int
		wantType   string
		wantError  string
	}{
		{name: "sign-in-page", method: http.MethodGet, path: "/",
			wantStatus: http.StatusOK, wantType: "text/html"},
		{name: "account-page", method: http.MethodGet, path: "/account",
			wantStatus: http.StatusOK, wantType: "text/html"},
		{name: "asset", method: http.MethodGet, path: "/static/gatepass.js",
			wantStatus: http.StatusOK, wantType: "text/javascript"},
		{name: "unknown-page", method: http.MethodGet, path: "/nope",
			wantStatus: http.StatusNotFound, wantType: "text/html"},
		{name: "me", method: http.MethodGet, path: "/auth/me",
			wantStatus: http.StatusUnauthorized, wantType: "application/json",
			wantError: "unauthorized"},
		{name: "sessions", method: http.MethodGet, path: "/auth/sessions",
			wantStatus: http.StatusUnauthorized, wantType: "application/json",
			wantError: "unauthorized"},
		{name: "jwks", method: http.MethodGet, path: "/.well-known/jwks.json",
			wantStatus: http.StatusOK, wantType: "application/json"},
		{name: "health", method: http.MethodGet, path: "/healthz",
			wantStatus: http.StatusOK, wantType: "application/json"},
		{name: "get-login", method: http.MethodGet, path: "/auth/login",
			wantStatus: http.StatusMethodNotAllowed, wantType: "application/json",
			wantError: "method_not_allowed"},
		{name: "post-page", method: http.MethodPost, path: "/",
			wantStatus: http.StatusNotFound, wantType: "application/json",
			wantError: "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			if res.StatusCode != tt.wantStatus {
				t.Errorf("status %d, want %d", res.StatusCode, tt.wantStatus)
			}
			if got := res.Header.Get("Content-Type"); !strings.HasPrefix(got, tt.wantType) {
				t.Errorf("Content-Type = %q, want %s", got, tt.wantType)
			}
			if tt.wantError != "" {
				var body struct{ Error string }
				if err := json.NewDecoder(res.Body).Decode(&body); err != nil ||
					body.Error != tt.wantError {
					t.Errorf("error %q (%v), want %q", body.Error, err, tt.wantError)
				}
			}
			// Pages get the policy; API answers keep theirs (none).
			isPage := strings.HasPrefix(tt.wantType, "text/")
			if got := res.Header.Get("Content-Security-Policy") != ""; got != isPage {
				t.Errorf("Content-Security-Policy present = %v, want %v", got, isPage)
			}
		})
	}
}

// mustAPI returns an API server on a new SQLite database with the pages as its
// fallback.
func mustAPI(tb testing.TB) *httpapi.Server {
	tb.Helper()
	ctx := context.Background()
	db := sqlite.NewDB(filepath.Join(tb.TempDir(), "gatepass.db"))
	if err := db.Open(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })

	cfg := auth.DefaultConfig()
	cfg.Issuer, cfg.Audience = "http://127.0.0.1:8080", "http://127.0.0.1:8080"
	svc := auth.NewService(db, password.NewHasher(1), cfg)
	if err := svc.Open(ctx); err != nil {
		tb.Fatal(err)
	}
	api := httpapi.NewServer(svc)
	api.Fallback = web.Handler()
	if err := api.Validate(); err != nil {
		tb.Fatal(err)
	}
	return api
}
