package httpapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
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

	// testLocalIssuer is the issuer of environments with insecure cookies, which
	// are allowed only on a loopback host.
	testLocalIssuer = "http://localhost:8080"
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
	runLog.Write(p) // for the log scan of TestMain
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
	api   *httpapi.Server
	srv   *httptest.Server

	// seen records, for each request the server received, its path and the
	// names of the cookies it carried.
	seen *requestLog
}

// envOptions adjusts the environment MustOpenEnv builds.
type envOptions struct {
	path                string
	clock               *testClock
	logs                *syncBuffer
	issuer              string
	introspectionSecret string
	insecureCookies     bool
	corsOrigins         []string
	signUp              bool
	fallback            http.Handler
	trustedProxies      []netip.Prefix
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
	} else if opts.insecureCookies {
		cfg.Issuer = testLocalIssuer
	}
	hasher := password.NewHasher(0)
	hasher.Time, hasher.Memory = 1, 64
	e.svc = auth.NewService(e.db, hasher, cfg)
	e.svc.Now = e.clock.Now
	e.svc.Logger = logger.With("component", "auth")
	if err := e.svc.Open(ctx); err != nil {
		tb.Fatalf("open service: %v", err)
	}

	// Serve it over loopback, recording which cookies reach which path.
	e.api = httpapi.NewServer(e.svc)
	e.api.Logger = logger.With("component", "httpapi")
	e.api.IntrospectionSecret = opts.introspectionSecret
	e.api.InsecureCookies = opts.insecureCookies
	e.api.CORSOrigins = opts.corsOrigins
	e.api.AllowSignUp = opts.signUp
	e.api.Fallback = opts.fallback
	e.api.TrustedProxies = opts.trustedProxies
	if err := e.api.Validate(); err != nil {
		tb.Fatalf("validate server: %v", err)
	}
	e.seen = &requestLog{}
	e.srv = httptest.NewServer(e.seen.wrap(e.api.Handler()))
	tb.Cleanup(e.srv.Close)
	registerEnvSecrets(tb, e)
	return e
}

// requestLog remembers the cookie names of every request, never their values.
type requestLog struct {
	mu       sync.Mutex
	requests []seenRequest
}

// seenRequest is one request as the server received it.
type seenRequest struct {
	path    string
	cookies []string
}

func (l *requestLog) wrap(h http.Handler) http.Handler {
	h = recordSecrets(h) // for the log scan of TestMain
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var names []string
		for _, c := range r.Cookies() {
			names = append(names, c.Name)
		}
		l.mu.Lock()
		l.requests = append(l.requests, seenRequest{path: r.URL.Path, cookies: names})
		l.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

// last returns the cookie names of the latest request to path.
func (l *requestLog) last(tb testing.TB, path string) []string {
	tb.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.requests) - 1; i >= 0; i-- {
		if l.requests[i].path == path {
			return l.requests[i].cookies
		}
	}
	tb.Fatalf("no request to %s was seen", path)
	return nil
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

	return send(tb, e.srv.Client(), req)
}

// send sends req with client and reads the answer.
func send(tb testing.TB, client *http.Client, req *http.Request) *response {
	tb.Helper()
	res, err := client.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
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

// cookieNames are the names of the session cookies in one mode.
type cookieNames struct {
	access, refresh, csrf string
}

// namesFor returns the cookie names with or without Secure.
func namesFor(insecure bool) cookieNames {
	if insecure {
		return cookieNames{"gatepass_access", "gatepass_refresh", "gatepass_csrf"}
	}
	return cookieNames{"__Host-gatepass_access", "__Secure-gatepass_refresh",
		"__Host-gatepass_csrf"}
}

// sessionBody is the answer of /auth/login, /auth/signup and /auth/refresh.
type sessionBody struct {
	ExpiresIn int64  `json:"expires_in"`
	Scope     string `json:"scope"`
	SessionID string `json:"session_id"`
	CSRFToken string `json:"csrf_token"`
	User      struct {
		UserID   string `json:"user_id"`
		Username string `json:"username"`
		Email    string `json:"email"`
	} `json:"user"`
}

// cookieSession is what a browser holds after signing in: the cookie values the
// server set and the answer's body.
type cookieSession struct {
	names                 cookieNames
	access, refresh, csrf string
	body                  sessionBody
}

// setCookies parses the Set-Cookie headers of r, in order.
func setCookies(tb testing.TB, r *response) []*http.Cookie {
	tb.Helper()
	var cookies []*http.Cookie
	for _, line := range r.header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			tb.Fatalf("Set-Cookie %q: %v", line, err)
		}
		cookies = append(cookies, c)
	}
	return cookies
}

// MustCookieSession reads a successful sign-in, sign-up or refresh answer.
func (e *testEnv) MustCookieSession(tb testing.TB, r *response, status int) cookieSession {
	tb.Helper()
	if r.status != status {
		tb.Fatalf("status %d, want %d, body %s", r.status, status, r.body)
	}
	cs := cookieSession{names: namesFor(e.api.InsecureCookies)}
	if err := json.Unmarshal(r.body, &cs.body); err != nil {
		tb.Fatalf("session answer %s: %v", r.body, err)
	}
	for _, c := range setCookies(tb, r) {
		switch c.Name {
		case cs.names.access:
			cs.access = c.Value
		case cs.names.refresh:
			cs.refresh = c.Value
		case cs.names.csrf:
			cs.csrf = c.Value
		}
	}
	if cs.access == "" || cs.refresh == "" || cs.csrf == "" {
		tb.Fatalf("cookies missing from %q", r.header.Values("Set-Cookie"))
	}
	return cs
}

// CookieLogin posts the credentials to /auth/login as a form, with extra headers.
func (e *testEnv) CookieLogin(tb testing.TB, user, pw string, h http.Header) *response {
	tb.Helper()
	return e.Do(tb, http.MethodPost, "/auth/login", formType,
		url.Values{"username": {user}, "password": {pw}}.Encode(), h)
}

// MustCookieLogin signs the user in at /auth/login with the test password.
func (e *testEnv) MustCookieLogin(tb testing.TB, user string) cookieSession {
	tb.Helper()
	return e.MustCookieSession(tb, e.CookieLogin(tb, user, testPassword, nil), http.StatusOK)
}

// Cookies returns a Cookie header value with the access, refresh and CSRF cookies
// of cs, as a browser would send them to /auth/refresh or /auth/logout.
func (cs cookieSession) Cookies() string {
	return cs.names.access + "=" + cs.access + "; " + cs.names.refresh + "=" + cs.refresh +
		"; " + cs.names.csrf + "=" + cs.csrf
}

// Header returns a request header with every cookie of cs and its CSRF token.
func (cs cookieSession) Header() http.Header {
	return http.Header{"Cookie": {cs.Cookies()}, "X-Csrf-Token": {cs.csrf}}
}

// browser is an HTTP client with a real cookie jar, so the browser's rules on
// paths and expiry decide which cookie goes where.
type browser struct {
	e      *testEnv
	jar    *cookiejar.Jar
	client *http.Client
}

// NewBrowser returns a client with an empty cookie jar. Over plain http a jar
// never sends Secure cookies, so use it on an environment with insecure cookies.
func (e *testEnv) NewBrowser(tb testing.TB) *browser {
	tb.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	client := *e.srv.Client()
	client.Jar = jar
	return &browser{e: e, jar: jar, client: &client}
}

// Do sends a request with the jar's cookies.
func (b *browser) Do(tb testing.TB, method, path, contentType, body string,
	header http.Header) *response {
	tb.Helper()
	req, err := http.NewRequest(method, b.e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		tb.Fatalf("new request: %v", err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return send(tb, b.client, req)
}

// Post sends an empty POST carrying the CSRF cookie's value in X-CSRF-Token, as
// a page's script does.
func (b *browser) Post(tb testing.TB, path string) *response {
	tb.Helper()
	h := http.Header{}
	h.Set("X-CSRF-Token", b.Cookie(tb, "gatepass_csrf", "/"))
	return b.Do(tb, http.MethodPost, path, "", "", h)
}

// Cookie returns the value of the named cookie the jar would send to path, or "".
func (b *browser) Cookie(tb testing.TB, name, path string) string {
	tb.Helper()
	u, err := url.Parse(b.e.srv.URL + path)
	if err != nil {
		tb.Fatal(err)
	}
	for _, c := range b.jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// SessionByID returns the stored session, failing the test if there is none.
func (e *testEnv) SessionByID(tb testing.TB, id string) *gatepass.Session {
	tb.Helper()
	var sess *gatepass.Session
	err := e.db.View(context.Background(), func(tx gatepass.Tx) error {
		var err error
		sess, err = tx.FindSessionByID(context.Background(), id)
		return err
	})
	if err != nil {
		tb.Fatalf("find session %s: %v", id, err)
	}
	return sess
}

// RefreshToken returns the stored record of a refresh token.
func (e *testEnv) RefreshToken(tb testing.TB, tok string) *gatepass.RefreshToken {
	tb.Helper()
	sum := sha256.Sum256([]byte(tok))
	var rt *gatepass.RefreshToken
	err := e.db.View(context.Background(), func(tx gatepass.Tx) error {
		var err error
		rt, err = tx.FindRefreshToken(context.Background(), sum[:])
		return err
	})
	if err != nil {
		tb.Fatalf("find refresh token: %v", err)
	}
	return rt
}
