package httpapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/auth"
	"github.com/gatepass/gatepass/httpapi"
	"github.com/gatepass/gatepass/password"
	"github.com/gatepass/gatepass/sqlite"
)

// Test fixtures shared by every test.
const (
	testIssuer   = "https://id.example.test"
	testAudience = "https://api.example.test"
	testUser     = "alice"
	testEmail    = "alice@example.test"
	testPassword = "correct horse battery"
	testSecret   = "introspection+secret/42"
)

// startTime is the fake clock's first reading; far from the real clock, so any
// code that reads time.Now instead of the injected clock shows up.
var startTime = time.Date(2031, 5, 17, 9, 30, 0, 0, time.UTC)

// testClock is a clock the test moves by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock {
	return &testClock{now: startTime}
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

// syncBuffer collects log output from several handlers at once.
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

// testEnv is a running server on a real SQLite file.
type testEnv struct {
	path  string
	clock *testClock
	logs  *syncBuffer
	db    *sqlite.DB
	svc   *auth.Service
	srv   *httptest.Server
}

// envOptions adjusts the environment MustOpenEnv builds.
type envOptions struct {
	path                string
	clock               *testClock
	logs                *syncBuffer
	issuer              string
	introspectionSecret string
}

// MustStartEnv starts a server with the default configuration on a new database.
func MustStartEnv(tb testing.TB) *testEnv {
	tb.Helper()
	return MustOpenEnv(tb, envOptions{})
}

// MustOpenEnv opens the database (new unless opts.path names one), the service and
// an HTTP server, all logging at Debug into one buffer, and closes them at the end
// of the test.
func MustOpenEnv(tb testing.TB, opts envOptions) *testEnv {
	tb.Helper()
	ctx := context.Background()
	e := &testEnv{path: opts.path, clock: opts.clock, logs: opts.logs}
	if e.path == "" {
		e.path = filepath.Join(tb.TempDir(), "gatepass.db")
	}
	if e.clock == nil {
		e.clock = newTestClock()
	}
	if e.logs == nil {
		e.logs = &syncBuffer{}
	}
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	// Open the database on the test's clock.
	e.db = sqlite.NewDB(e.path)
	e.db.Now = e.clock.Now
	e.db.Logger = logger.With("component", "sqlite")
	if err := e.db.Open(ctx); err != nil {
		tb.Fatalf("open db: %v", err)
	}
	tb.Cleanup(func() { e.db.Close() })

	// Open the service, with hashing cheap enough for tests.
	cfg := auth.DefaultConfig()
	cfg.Issuer, cfg.Audience = testIssuer, testAudience
	if opts.issuer != "" {
		cfg.Issuer = opts.issuer
	}
	hasher := password.NewHasher(0)
	hasher.Time, hasher.Memory = 1, 64
	e.svc = auth.NewService(e.db, hasher, cfg)
	e.svc.Now = e.clock.Now
	e.svc.Logger = logger.With("component", "auth")
	if err := e.svc.Open(ctx); err != nil {
		tb.Fatalf("open service: %v", err)
	}

	// Serve it over loopback.
	api := httpapi.NewServer(e.svc)
	api.Logger = logger.With("component", "httpapi")
	api.IntrospectionSecret = opts.introspectionSecret
	e.srv = httptest.NewServer(api.Handler())
	tb.Cleanup(e.srv.Close)
	return e
}

// Close stops the server and closes the database, as a process exit would.
func (e *testEnv) Close() {
	e.srv.Close()
	e.db.Close()
}

// MustCreateUser adds a user with the test password.
func (e *testEnv) MustCreateUser(tb testing.TB, name, email string) *gatepass.User {
	tb.Helper()
	u, err := e.svc.CreateUser(context.Background(),
		auth.NewUser{Name: name, Email: email, Password: testPassword})
	if err != nil {
		tb.Fatalf("create user %s: %v", name, err)
	}
	return u
}

// response is an answer read in full.
type response struct {
	status int
	header http.Header
	body   []byte
}

// JSON decodes the body into a map, failing the test if it is not a JSON object.
func (r *response) JSON(tb testing.TB) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		tb.Fatalf("status %d, body %q is not a JSON object: %v", r.status, r.body, err)
	}
	return m
}

// String returns a JSON member, "" if it is absent or not a string.
func (r *response) String(tb testing.TB, key string) string {
	tb.Helper()
	s, _ := r.JSON(tb)[key].(string)
	return s
}

// Do sends a request to the test server and reads the answer.
func (e *testEnv) Do(tb testing.TB, method, path, contentType, body string,
	header http.Header) *response {
	tb.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		tb.Fatalf("new request: %v", err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}

	res, err := e.srv.Client().Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatalf("read body: %v", err)
	}
	return &response{status: res.StatusCode, header: res.Header, body: b}
}

// PostForm posts form-encoded values.
func (e *testEnv) PostForm(tb testing.TB, path string, v url.Values) *response {
	tb.Helper()
	return e.Do(tb, http.MethodPost, path, "application/x-www-form-urlencoded", v.Encode(),
		nil)
}

// Get sends a GET, with a bearer token unless bearer is empty.
func (e *testEnv) Get(tb testing.TB, path, bearer string) *response {
	tb.Helper()
	h := http.Header{}
	if bearer != "" {
		h.Set("Authorization", "Bearer "+bearer)
	}
	return e.Do(tb, http.MethodGet, path, "", "", h)
}

// tokens is a successful token response.
type tokens struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
}

// MustTokens decodes a token response, failing the test unless it is a 200.
func MustTokens(tb testing.TB, r *response) tokens {
	tb.Helper()
	if r.status != http.StatusOK {
		tb.Fatalf("token request: status %d, body %s", r.status, r.body)
	}
	var t tokens
	if err := json.Unmarshal(r.body, &t); err != nil {
		tb.Fatalf("token response %s: %v", r.body, err)
	}
	return t
}

// Login signs in with the password grant.
func (e *testEnv) Login(tb testing.TB, user, pw string) *response {
	tb.Helper()
	return e.PostForm(tb, "/oauth/token", url.Values{
		"grant_type": {"password"}, "username": {user}, "password": {pw}})
}

// MustLogin signs the user in with the test password.
func (e *testEnv) MustLogin(tb testing.TB, user string) tokens {
	tb.Helper()
	return MustTokens(tb, e.Login(tb, user, testPassword))
}

// Refresh uses the refresh_token grant.
func (e *testEnv) Refresh(tb testing.TB, refresh string) *response {
	tb.Helper()
	return e.PostForm(tb, "/oauth/token", url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
}

// Introspect asks about a token with the test secret as HTTP Basic password.
func (e *testEnv) Introspect(tb testing.TB, tok string) *response {
	tb.Helper()
	h := http.Header{}
	h.Set("Authorization", basicAuth("resource-server", testSecret))
	return e.Do(tb, http.MethodPost, "/oauth/introspect", "application/x-www-form-urlencoded",
		url.Values{"token": {tok}}.Encode(), h)
}

// Sessions lists the stored sessions of a user.
func (e *testEnv) Sessions(tb testing.TB, userID int64) []*gatepass.Session {
	tb.Helper()
	var sessions []*gatepass.Session
	err := e.db.View(context.Background(), func(tx gatepass.Tx) error {
		var err error
		sessions, err = tx.FindSessions(context.Background(),
			gatepass.SessionFilter{UserID: &userID})
		return err
	})
	if err != nil {
		tb.Fatalf("find sessions: %v", err)
	}
	return sessions
}

// basicAuth builds an HTTP Basic header value, form-encoding both halves first
// as RFC 6749 section 2.3.1 asks.
func basicAuth(user, pw string) string {
	return "Basic " + b64(url.QueryEscape(user)+":"+url.QueryEscape(pw))
}

// rawBasicAuth builds an HTTP Basic header value without form-encoding, the way
// curl -u does.
func rawBasicAuth(user, pw string) string {
	return "Basic " + b64(user+":"+pw)
}

func b64(s string) string {
	return base64.StdEncoding.EncodeToString([]byte(s))
}

// wantError checks that r is a JSON error with the given status and error code,
// marked not cacheable.
func wantError(tb testing.TB, r *response, status int, code string) {
	tb.Helper()
	if r.status != status {
		tb.Errorf("status = %d, want %d (body %s)", r.status, status, r.body)
	}
	if got := r.String(tb, "error"); got != code {
		tb.Errorf("error = %q, want %q (body %s)", got, code, r.body)
	}
	if got := r.header.Get("Content-Type"); got != "application/json" {
		tb.Errorf("Content-Type = %q, want application/json", got)
	}
	if got := r.header.Get("Cache-Control"); got != "no-store" {
		tb.Errorf("Cache-Control = %q, want no-store", got)
	}
}
