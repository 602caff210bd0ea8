package main

// The harness is a main package, so its test sits inside it. It serves the
// harness on loopback over a real SQLite file and calls it as loadgen does.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/auth"
	"github.com/gatepass/gatepass/bench/load"
	"github.com/gatepass/gatepass/password"
	"github.com/gatepass/gatepass/token"
	"github.com/google/go-cmp/cmp"
)

const (
	testUser     = "bench"
	testPassword = "bench-password"
	testUsers    = 2
)

// testEnv is the harness serving on loopback.
type testEnv struct {
	svc *auth.Service
	url string

	// userID is the id of bench-1, as the variants answer it.
	userID string
}

// MustStart opens the harness on a new SQLite file with the accounts bench-1
// and bench-2, as "compare -user bench -users 2" makes them.
func MustStart(tb testing.TB) *testEnv {
	tb.Helper()
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))

	store, err := openStore(ctx, filepath.Join(tb.TempDir(), "compare.db"), logger)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })

	// Cheap hashing keeps the password variant from spending the test's time.
	hasher := password.NewHasher(0)
	hasher.Time, hasher.Memory = 1, 64
	cfg := auth.DefaultConfig()
	cfg.Issuer, cfg.Audience = "http://127.0.0.1:8090", "http://127.0.0.1:8090"
	svc := auth.NewService(store, hasher, cfg)
	svc.Logger = logger
	if err := svc.Open(ctx); err != nil {
		tb.Fatal(err)
	}
	c := &config{user: testUser, password: testPassword, users: testUsers}
	if err := createUsers(ctx, svc, c); err != nil {
		tb.Fatal(err)
	}
	name := testUser + "-1"
	users, err := svc.FindUsers(ctx, gatepass.UserFilter{Name: &name})
	if err != nil || len(users) != 1 {
		tb.Fatalf("find bench-1: %v (%d users)", err, len(users))
	}

	s, err := newServer(ctx, store, svc, hasher, logger)
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	tb.Cleanup(srv.Close)
	return &testEnv{svc: svc, url: srv.URL, userID: strconv.FormatInt(users[0].ID, 10)}
}

// signIn signs bench-1 in and returns its access token and session id.
func (e *testEnv) signIn(tb testing.TB) (access, sid string) {
	tb.Helper()
	pair, err := e.svc.Login(context.Background(), auth.LoginRequest{
		Username: testUser + "-1", Password: testPassword})
	if err != nil {
		tb.Fatalf("sign in: %v", err)
	}
	return pair.AccessToken, pair.SessionID
}

// get sends a GET with the header and returns the status and the decoded body.
func (e *testEnv) get(tb testing.TB, path string, h http.Header) (int, map[string]any) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, e.url+path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header = h
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()

	var body map[string]any
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		tb.Fatalf("GET %s: status %d, body not JSON: %v", path, res.StatusCode, err)
	}
	if got := res.Header.Get("Cache-Control"); got != "no-store" {
		tb.Errorf("GET %s: Cache-Control %q, want no-store", path, got)
	}
	return res.StatusCode, body
}

// forge changes the end of a token's signature, keeping it canonical base64url.
func forge(tok string) string {
	forged := tok[:len(tok)-4] + "AAAA"
	if forged == tok {
		forged = tok[:len(tok)-4] + "QQQA"
	}
	return forged
}

// basic returns an HTTP Basic Authorization header.
func basic(user, pw string) http.Header {
	return http.Header{"Authorization": {"Basic " +
		base64.StdEncoding.EncodeToString([]byte(user+":"+pw))}}
}

func TestVariants(t *testing.T) {
	e := MustStart(t)
	access, sid := e.signIn(t)
	_, revokedSID := e.signIn(t)
	if err := e.svc.RevokeSession(context.Background(), revokedSID, "logout"); err != nil {
		t.Fatal(err)
	}
	user := map[string]any{"user_id": e.userID}
	unauthorized := map[string]any{"error": "unauthorized"}

	tests := []struct {
		name       string
		path       string
		header     http.Header
		wantStatus int
		wantBody   map[string]any
	}{
		{name: "jwt", path: load.PathJWT,
			header:     http.Header{"Authorization": {"Bearer " + access}},
			wantStatus: http.StatusOK, wantBody: user},
		{name: "jwt-forged", path: load.PathJWT,
			header:     http.Header{"Authorization": {"Bearer " + forge(access)}},
			wantStatus: http.StatusUnauthorized, wantBody: map[string]any{
				"error": "invalid_token", "error_description": token.ErrSignature.Message}},
		{name: "session", path: load.PathSession,
			header:     http.Header{"Cookie": {load.SessionCookie + "=" + sid}},
			wantStatus: http.StatusOK, wantBody: user},
		{name: "session-revoked", path: load.PathSession,
			header:     http.Header{"Cookie": {load.SessionCookie + "=" + revokedSID}},
			wantStatus: http.StatusUnauthorized, wantBody: unauthorized},
		{name: "session-unknown", path: load.PathSession,
			header:     http.Header{"Cookie": {load.SessionCookie + "=nope"}},
			wantStatus: http.StatusUnauthorized, wantBody: unauthorized},
		{name: "password", path: load.PathPassword,
			header:     basic(testUser+"-1", testPassword),
			wantStatus: http.StatusOK, wantBody: user},
		{name: "password-wrong", path: load.PathPassword,
			header:     basic(testUser+"-1", "not-the-password"),
			wantStatus: http.StatusUnauthorized, wantBody: unauthorized},
		{name: "password-unknown-user", path: load.PathPassword,
			header:     basic("nobody", testPassword),
			wantStatus: http.StatusUnauthorized, wantBody: unauthorized},
		{name: "gatepass-api", path: "/healthz", header: http.Header{},
			wantStatus: http.StatusOK, wantBody: map[string]any{"status": "ok"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := e.get(t, tt.path, tt.header)

			if status != tt.wantStatus {
				t.Errorf("status = %d, want %d", status, tt.wantStatus)
			}
			if diff := cmp.Diff(body, tt.wantBody); diff != "" {
				t.Errorf("body (-got +want):\n%s", diff)
			}
		})
	}
}

// TestLoad runs loadgen's scenarios for the harness against it, briefly: every
// request must succeed, whatever the variant.
func TestLoad(t *testing.T) {
	e := MustStart(t)
	for _, scenario := range []string{"trivial", "jwt", "session", "password"} {
		t.Run(scenario, func(t *testing.T) {
			cfg := load.Config{URL: e.url, Scenario: scenario, Concurrency: 4,
				Warmup: 50 * time.Millisecond, Duration: 300 * time.Millisecond,
				User: testUser, Password: testPassword, Users: testUsers}

			got, err := load.Run(context.Background(), cfg)

			if err != nil {
				t.Fatal(err)
			}
			if got.Errors != 0 || got.Requests == 0 {
				t.Errorf("%d requests, %d errors (%s); want some and none", got.Requests,
					got.Errors, got.ErrorSummary())
			}
		})
	}
}

func TestRun_hashRate(t *testing.T) {
	var stdout, stderr bytes.Buffer

	err := run(context.Background(), []string{"-hash-rate", "1ns"}, &stdout, &stderr)

	if err != nil {
		t.Fatalf("run: %v (stderr %s)", err, stderr.String())
	}
	var got hashRate
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("output %q: %v", stdout.String(), err)
	}
	if got.PerSecond <= 0 || got.Seconds <= 0 {
		t.Errorf("%f hashes/s over %fs, want positive", got.PerSecond, got.Seconds)
	}
	got.PerSecond, got.Seconds = 0, 0
	want := hashRate{Goroutines: runtime.GOMAXPROCS(0), MemoryKiB: 19456, Time: 2, Threads: 1}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("parameters (-got +want):\n%s", diff)
	}
}

func TestRun_badFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "argument", args: []string{"serve"}, wantErr: `unexpected argument "serve"`},
		{name: "log-level", args: []string{"-log-level", "loud"},
			wantErr: `log-level: "loud" is not`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(context.Background(), tt.args, io.Discard, io.Discard)

			if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Errorf("run(%q) = %v, want %q", tt.args, err, tt.wantErr)
			}
		})
	}
}
