package main

// The example is a main package, so its test sits inside it. It runs the README's
// walk-through against a gatepass server in the same process.

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatepass/gatepass/auth"
	"github.com/gatepass/gatepass/httpapi"
	"github.com/gatepass/gatepass/password"
	"github.com/gatepass/gatepass/sqlite"
	"github.com/gatepass/gatepass/verify"
	"github.com/google/go-cmp/cmp"
)

const (
	testIssuer   = "http://127.0.0.1:8080"
	demoPassword = "demo-password"
)

func TestWalkthrough(t *testing.T) {
	gp := startGatepass(t)
	v, err := verify.New(context.Background(), testIssuer, testIssuer,
		verify.WithJWKSURL(gp.URL+"/.well-known/jwks.json"),
		verify.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	api := httptest.NewServer(newHandler(v))
	defer api.Close()
	all := mustToken(t, gp, "")
	profile := mustToken(t, gp, "profile")

	tests := []struct {
		name       string
		method     string
		path       string
		token      string
		wantStatus int
		wantBody   map[string]any
	}{
		{name: "public", method: http.MethodGet, path: "/api/status",
			wantStatus: http.StatusOK, wantBody: map[string]any{"status": "ok"}},
		{name: "me-without-token", method: http.MethodGet, path: "/api/me",
			wantStatus: http.StatusUnauthorized, wantBody: map[string]any{
				"error":             "unauthorized",
				"error_description": verify.ErrNoToken.Message}},
		{name: "newsletter", method: http.MethodPost, path: "/api/newsletter", token: all,
			wantStatus: http.StatusOK,
			wantBody:   map[string]any{"subscribed": true, "username": "demo"}},
		{name: "newsletter-without-email-scope", method: http.MethodPost,
			path: "/api/newsletter", token: profile, wantStatus: http.StatusForbidden,
			wantBody: map[string]any{"error": "insufficient_scope",
				"error_description": "the access token lacks a required scope",
				"scope":             "email"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, got := call(t, api, tt.method, tt.path, tt.token)

			if status != tt.wantStatus {
				t.Errorf("status = %d, want %d", status, tt.wantStatus)
			}
			if diff := cmp.Diff(got, tt.wantBody); diff != "" {
				t.Errorf("body (-got +want):\n%s", diff)
			}
		})
	}

	// /api/me echoes the demo user, as the token names them.
	status, got := call(t, api, http.MethodGet, "/api/me", all)
	if status != http.StatusOK || got["username"] != "demo" || got["user_id"] != "1" ||
		got["session_id"] == "" || got["expires_at"] == "" {
		t.Errorf("status %d, body %v", status, got)
	}
	if diff := cmp.Diff(got["scopes"], []any{"profile", "email"}); diff != "" {
		t.Errorf("scopes (-got +want):\n%s", diff)
	}
}

// startGatepass serves a gatepass service with the demo user on a SQLite file.
func startGatepass(tb testing.TB) *httptest.Server {
	tb.Helper()
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)

	db := sqlite.NewDB(filepath.Join(tb.TempDir(), "gatepass.db"))
	db.Logger = quiet
	if err := db.Open(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })

	cfg := auth.DefaultConfig()
	cfg.Issuer, cfg.Audience = testIssuer, testIssuer
	hasher := password.NewHasher(0)
	hasher.Time, hasher.Memory = 1, 64
	svc := auth.NewService(db, hasher, cfg)
	svc.Logger = quiet
	if err := svc.Open(ctx); err != nil {
		tb.Fatal(err)
	}
	_, err := svc.CreateUser(ctx, auth.NewUser{Name: "demo", Password: demoPassword})
	if err != nil {
		tb.Fatal(err)
	}

	api := httpapi.NewServer(svc)
	api.Logger = quiet
	srv := httptest.NewServer(api.Handler())
	tb.Cleanup(srv.Close)
	return srv
}

// mustToken signs the demo user in with the password grant, as the README's
// curl command does, and returns the access token.
func mustToken(tb testing.TB, gp *httptest.Server, scope string) string {
	tb.Helper()
	form := url.Values{"grant_type": {"password"}, "username": {"demo"},
		"password": {demoPassword}}
	if scope != "" {
		form.Set("scope", scope)
	}
	res, err := gp.Client().PostForm(gp.URL+"/oauth/token", form)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil || body.AccessToken == "" {
		tb.Fatalf("token response: status %d, %v", res.StatusCode, err)
	}
	return body.AccessToken
}

// call sends a request, with tok as bearer token unless it is empty, and
// decodes the JSON answer.
func call(tb testing.TB, srv *httptest.Server, method, path, tok string) (int,
	map[string]any) {
	tb.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()

	b, _ := io.ReadAll(res.Body)
	var body map[string]any
	if err := json.Unmarshal(b, &body); err != nil {
		tb.Fatalf("body %q: %v", strings.TrimSpace(string(b)), err)
	}
	return res.StatusCode, body
}
