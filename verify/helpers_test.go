package verify_test

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
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/auth"
	"github.com/gatepass/gatepass/httpapi"
	"github.com/gatepass/gatepass/password"
	"github.com/gatepass/gatepass/sqlite"
	"github.com/gatepass/gatepass/verify"
)

// Test fixtures shared by every test.
const (
	testIssuer   = "https://id.example.test"
	testAudience = "https://api.example.test"
	testPassword = "correct horse battery"
	jwksPath     = "/.well-known/jwks.json"

	// refetchLimit is the default pace of fetches for unknown keys.
	refetchLimit = 10 * time.Second
)

// startTime is the fake clock's first reading; far from the real clock, so any
// code that reads time.Now instead of the injected clock shows up.
var startTime = time.Date(2031, 5, 17, 9, 30, 0, 0, time.UTC)

// testClock is a clock the test moves by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

// Now returns the current fake time.
func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// syncBuffer collects log output from concurrent requests.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// issuer is a real gatepass server on a SQLite file, served over loopback, that
// counts the requests for its JWK Set and can be told to answer them badly.
type issuer struct {
	clock   *testClock
	svc     *auth.Service
	srv     *httptest.Server
	jwksURL string

	// fetches counts the requests for the JWK Set.
	fetches atomic.Int64

	mu       sync.Mutex
	override http.HandlerFunc // answers JWKS requests instead of gatepass when set
}

// MustStartIssuer starts a gatepass server whose scopes include "orders", with
// the users alice and bob.
func MustStartIssuer(tb testing.TB) *issuer {
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

	// Open the service, with hashing cheap enough for tests.
	cfg := auth.DefaultConfig()
	cfg.Issuer, cfg.Audience = testIssuer, testAudience
	cfg.Scopes = []string{"profile", "email", "orders"}
	hasher := password.NewHasher(0)
	hasher.Time, hasher.Memory = 1, 64
	iss.svc = auth.NewService(db, hasher, cfg)
	iss.svc.Now, iss.svc.Logger = iss.clock.Now, quiet
	if err := iss.svc.Open(ctx); err != nil {
		tb.Fatalf("open service: %v", err)
	}
	for _, name := range []string{"alice", "bob"} {
		_, err := iss.svc.CreateUser(ctx, auth.NewUser{Name: name, Password: testPassword})
		if err != nil {
			tb.Fatalf("create user %s: %v", name, err)
		}
	}

	// Serve it, counting JWKS requests.
	api := httpapi.NewServer(iss.svc)
	api.Logger = quiet
	h := api.Handler()
	iss.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter,
		r *http.Request) {
		if r.URL.Path == jwksPath {
			iss.fetches.Add(1)
			iss.mu.Lock()
			override := iss.override
			iss.mu.Unlock()
			if override != nil {
				override(w, r)
				return
			}
		}
		h.ServeHTTP(w, r)
	}))
	tb.Cleanup(iss.srv.Close)
	iss.jwksURL = iss.srv.URL + jwksPath
	return iss
}

// SetJWKS makes h answer the JWKS requests; nil gives them back to gatepass.
func (iss *issuer) SetJWKS(h http.HandlerFunc) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	iss.override = h
}

// MustLogin signs name in with the password grant and the given scope ("" for
// the default ones).
func (iss *issuer) MustLogin(tb testing.TB, name, scope string) *auth.TokenPair {
	tb.Helper()
	pair, err := iss.svc.Login(context.Background(),
		auth.LoginRequest{Username: name, Password: testPassword, Scope: scope})
	if err != nil {
		tb.Fatalf("login %s: %v", name, err)
	}
	return pair
}

// MustRotate makes a new key current on the server, as "gatepass keys rotate"
// followed by a key reload does, and returns its id.
func (iss *issuer) MustRotate(tb testing.TB) string {
	tb.Helper()
	ctx := context.Background()
	info, err := iss.svc.RotateKeys(ctx, "")
	if err != nil {
		tb.Fatalf("rotate keys: %v", err)
	}
	if err := iss.svc.ReloadKeys(ctx); err != nil {
		tb.Fatalf("reload keys: %v", err)
	}
	return info.ID
}

// MustNewVerifier builds a Verifier for the issuer's JWKS URL on the issuer's
// clock, logging into logs (which may be nil), and closes it at the end of the
// test. opts come last and win.
func (iss *issuer) MustNewVerifier(tb testing.TB, logs *syncBuffer,
	opts ...verify.Option) *verify.Verifier {
	tb.Helper()
	v, err := verify.New(context.Background(), testIssuer, testAudience,
		iss.verifierOptions(logs, opts...)...)
	if err != nil {
		tb.Fatalf("new verifier: %v", err)
	}
	tb.Cleanup(func() { v.Close() })
	return v
}

// verifierOptions are the options MustNewVerifier uses.
func (iss *issuer) verifierOptions(logs *syncBuffer, opts ...verify.Option) []verify.Option {
	var out io.Writer = io.Discard
	if logs != nil {
		out = logs
	}
	logger := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return append([]verify.Option{
		verify.WithJWKSURL(iss.jwksURL),
		verify.WithHTTPClient(iss.srv.Client()),
		verify.WithTimeFunc(iss.clock.Now),
		verify.WithLogger(logger),
	}, opts...)
}

// identity is what the test API answers on its protected routes: what the
// accessors and gatepass.ClaimsFromContext read from the request context.
type identity struct {
	Subject   string           `json:"subject"`
	Username  string           `json:"username"`
	SessionID string           `json:"session_id"`
	Scopes    []string         `json:"scopes"`
	ExpiresAt string           `json:"expires_at"`
	Claims    *gatepass.Claims `json:"claims"`
}

// echoIdentity answers with the identity in the request context.
var echoIdentity = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(identity{
		Subject:   verify.Subject(ctx),
		Username:  verify.Username(ctx),
		SessionID: verify.SessionID(ctx),
		Scopes:    verify.Scopes(ctx),
		ExpiresAt: verify.ExpiresAt(ctx).UTC().Format(time.RFC3339),
		Claims:    gatepass.ClaimsFromContext(ctx),
	})
})

// MustStartAPI serves a resource server protected by v: GET /me for any valid
// token, POST /orders for the "orders" scope and GET /reports for "orders" or
// "admin". Every route answers with the caller's identity.
func MustStartAPI(tb testing.TB, v *verify.Verifier) *httptest.Server {
	tb.Helper()
	mux := http.NewServeMux()
	mux.Handle("GET /me", v.Middleware(echoIdentity))
	mux.Handle("POST /orders", v.Middleware(verify.RequireScope("orders")(echoIdentity)))
	mux.Handle("GET /reports",
		v.Middleware(verify.RequireAnyScope("orders", "admin")(echoIdentity)))
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	return srv
}

// response is an answer read in full.
type response struct {
	status int
	header http.Header
	body   []byte
}

// errorBody is the body of a refusal.
type errorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
	Scope       string `json:"scope"`
}

// Identity decodes the body of a 200, failing the test on any other answer.
func (r *response) Identity(tb testing.TB) identity {
	tb.Helper()
	if r.status != http.StatusOK {
		tb.Fatalf("status %d, want 200, body %s", r.status, r.body)
	}
	var id identity
	if err := json.Unmarshal(r.body, &id); err != nil {
		tb.Fatalf("body %s: %v", r.body, err)
	}
	return id
}

// Error decodes the body of a refusal.
func (r *response) Error(tb testing.TB) errorBody {
	tb.Helper()
	var e errorBody
	if err := json.Unmarshal(r.body, &e); err != nil {
		tb.Fatalf("status %d, body %q is not a JSON error: %v", r.status, r.body, err)
	}
	return e
}

// do sends a request to srv with the given headers and reads the answer.
func do(tb testing.TB, srv *httptest.Server, method, path string,
	header http.Header) *response {
	tb.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		tb.Fatalf("new request: %v", err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}

	res, err := srv.Client().Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatalf("read body: %v", err)
	}
	return &response{status: res.StatusCode, header: res.Header, body: body}
}

// bearer returns a header with tok as bearer token.
func bearer(tok string) http.Header {
	return http.Header{"Authorization": {"Bearer " + tok}}
}

// b64 encodes one JWS segment.
func b64(b []byte) string {
	return base64.RawURLEncoding.EncodeToString(b)
}

// segments cuts a token into its three encoded segments.
func segments(tb testing.TB, tok string) (header, payload, sig string) {
	tb.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		tb.Fatalf("token has %d segments", len(parts))
	}
	return parts[0], parts[1], parts[2]
}

// withHeader returns tok with its header replaced by the JSON header h, the
// payload and signature kept.
func withHeader(tb testing.TB, tok, h string) string {
	tb.Helper()
	_, payload, sig := segments(tb, tok)
	return b64([]byte(h)) + "." + payload + "." + sig
}
