package load_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/auth"
	"github.com/gatepass/gatepass/bench/load"
	"github.com/gatepass/gatepass/httpapi"
	"github.com/gatepass/gatepass/password"
	"github.com/gatepass/gatepass/sqlite"
	"github.com/google/go-cmp/cmp"
)

// Test accounts: bench-1 and bench-2, as loadgen -user bench -users 2 names them.
const (
	testUserPrefix = "bench"
	testUsers      = 2
	testPassword   = "bench-password"
	testIssuer     = "http://127.0.0.1:8080"
)

// Every run is short and small: the test checks that the scenarios work, not
// how fast they are.
const (
	testConcurrency = 4
	testWarmup      = 50 * time.Millisecond
	testDuration    = 300 * time.Millisecond
)

// counter is an auth.Observer that counts the service's events by outcome.
type counter struct {
	mu        sync.Mutex
	signIns   map[string]int
	refreshes map[string]int
	reuses    int
	revoked   map[string]int
}

var _ auth.Observer = (*counter)(nil)

func newCounter() *counter {
	return &counter{signIns: map[string]int{}, refreshes: map[string]int{},
		revoked: map[string]int{}}
}

func (c *counter) SignIn(outcome string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.signIns[outcome]++
}

func (c *counter) Refresh(outcome string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refreshes[outcome]++
}

func (c *counter) ReuseDetected() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reuses++
}

func (c *counter) SessionsRevoked(reason string, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.revoked[reason] += n
}

func (c *counter) RateLimited(string) {}

// testServer is an in-process gatepass on a real SQLite file, with no rate
// limits, as "gatepass serve --rate-limit off" runs it.
type testServer struct {
	db     *sqlite.DB
	svc    *auth.Service
	events *counter
	url    string
}

// MustStartServer starts a server with the test accounts on loopback.
func MustStartServer(tb testing.TB) *testServer {
	tb.Helper()
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))

	db := sqlite.NewDB(filepath.Join(tb.TempDir(), "gatepass.db"))
	db.Logger = logger
	if err := db.Open(ctx); err != nil {
		tb.Fatalf("open db: %v", err)
	}
	tb.Cleanup(func() { db.Close() })

	// Hashing is made cheap: the sign-in scenario would otherwise spend the
	// test's time in argon2id.
	hasher := password.NewHasher(0)
	hasher.Time, hasher.Memory = 1, 64
	cfg := auth.DefaultConfig()
	cfg.Issuer, cfg.Audience = testIssuer, testIssuer
	s := &testServer{db: db, events: newCounter()}
	s.svc = auth.NewService(db, hasher, cfg)
	s.svc.Logger = logger
	s.svc.Observer = s.events
	if err := s.svc.Open(ctx); err != nil {
		tb.Fatalf("open service: %v", err)
	}
	for i := 1; i <= testUsers; i++ {
		_, err := s.svc.CreateUser(ctx, auth.NewUser{Name: testUserName(i),
			Password: testPassword})
		if err != nil {
			tb.Fatalf("create user: %v", err)
		}
	}

	api := httpapi.NewServer(s.svc)
	api.Logger = logger
	srv := httptest.NewServer(api.Handler())
	tb.Cleanup(srv.Close)
	s.url = srv.URL
	return s
}

func testUserName(i int) string {
	return fmt.Sprintf("%s-%d", testUserPrefix, i)
}

// Sessions returns every stored session.
func (s *testServer) Sessions(tb testing.TB) []*gatepass.Session {
	tb.Helper()
	var sessions []*gatepass.Session
	err := s.db.View(context.Background(), func(tx gatepass.Tx) error {
		var err error
		sessions, err = tx.FindSessions(context.Background(), gatepass.SessionFilter{})
		return err
	})
	if err != nil {
		tb.Fatalf("find sessions: %v", err)
	}
	return sessions
}

// testConfig is a short run of scenario against url.
func testConfig(url, scenario string) load.Config {
	return load.Config{URL: url, Scenario: scenario, Concurrency: testConcurrency,
		Warmup: testWarmup, Duration: testDuration, User: testUserPrefix,
		Password: testPassword, Users: testUsers}
}

// MustRun runs cfg and checks what every successful run has: no error of any
// kind, requests counted and latencies in order.
func MustRun(tb testing.TB, cfg load.Config) *load.Result {
	tb.Helper()
	got, err := load.Run(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("run %s: %v", cfg.Scenario, err)
	}

	if diff := cmp.Diff(got.ErrorKinds, map[string]int64(nil)); diff != "" {
		tb.Errorf("%s: error kinds (-got +want):\n%s", cfg.Scenario, diff)
	}
	if got.Errors != 0 {
		tb.Errorf("%s: errors = %d, want 0", cfg.Scenario, got.Errors)
	}
	if got.Requests == 0 || got.PerSecond <= 0 {
		tb.Errorf("%s: requests = %d at %f/s, want some", cfg.Scenario, got.Requests,
			got.PerSecond)
	}
	l := got.Latency
	if !(0 < l.P50 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.Max) {
		tb.Errorf("%s: latency %+v, want 0 < p50 <= p90 <= p99 <= max", cfg.Scenario, l)
	}
	if got.Scenario != cfg.Scenario || got.Concurrency != cfg.Concurrency ||
		got.Seconds != cfg.Duration.Seconds() {
		tb.Errorf("result names %s, %d workers, %fs; want %s, %d, %fs", got.Scenario,
			got.Concurrency, got.Seconds, cfg.Scenario, cfg.Concurrency,
			cfg.Duration.Seconds())
	}
	return got
}

func TestRun(t *testing.T) {
	tests := []struct {
		scenario string

		// wantSessions is how many sessions the run leaves: one per worker for
		// the scenarios that sign in once; signin makes one per request.
		wantSessions int
	}{
		{scenario: "trivial", wantSessions: 0},
		{scenario: "verify", wantSessions: testConcurrency},
		{scenario: "me", wantSessions: testConcurrency},
		{scenario: "refresh", wantSessions: testConcurrency},
	}
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			srv := MustStartServer(t)
			cfg := testConfig(srv.url, tt.scenario)
			cfg.ServerPID = os.Getpid()

			got := MustRun(t, cfg)

			if got.ServerCPUSeconds <= 0 || got.PerServerCPUSecond <= 0 {
				t.Errorf("server used %fs of CPU, %f requests per CPU-second; want both",
					got.ServerCPUSeconds, got.PerServerCPUSecond)
			}

			sessions := srv.Sessions(t)
			if len(sessions) != tt.wantSessions {
				t.Errorf("%d sessions, want %d", len(sessions), tt.wantSessions)
			}
			for _, s := range sessions {
				if !s.RevokedAt.IsZero() {
					t.Errorf("session %s revoked (%s)", s.ID, s.RevokeReason)
				}
			}
		})
	}
}

// TestRun_refreshChains checks that every refresh the workers send is the
// session's current token: the server never sees a token twice, so it never
// answers a replay nor revokes a session for reuse, and no worker has to sign
// in again.
func TestRun_refreshChains(t *testing.T) {
	srv := MustStartServer(t)

	got := MustRun(t, testConfig(srv.url, "refresh"))

	srv.events.mu.Lock()
	defer srv.events.mu.Unlock()
	if n := srv.events.refreshes[auth.OutcomeSuccess]; uint64(n) < got.Requests {
		t.Errorf("server rotated %d tokens, fewer than the %d refreshes counted", n,
			got.Requests)
	}
	delete(srv.events.refreshes, auth.OutcomeSuccess)
	if diff := cmp.Diff(srv.events.refreshes, map[string]int{}); diff != "" {
		t.Errorf("refresh outcomes other than success (-got +want):\n%s", diff)
	}
	if srv.events.reuses != 0 {
		t.Errorf("%d reuse detections, want 0", srv.events.reuses)
	}
	if diff := cmp.Diff(srv.events.revoked, map[string]int{}); diff != "" {
		t.Errorf("sessions revoked (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(srv.events.signIns, map[string]int{
		auth.OutcomeSuccess: testConcurrency}); diff != "" {
		t.Errorf("sign-ins (-got +want):\n%s", diff)
	}
}

// TestRun_signIn checks that every sign-in counted is one the server granted,
// each with a session of its own, spread over both accounts.
func TestRun_signIn(t *testing.T) {
	srv := MustStartServer(t)

	got := MustRun(t, testConfig(srv.url, "signin"))

	srv.events.mu.Lock()
	granted, failed := srv.events.signIns[auth.OutcomeSuccess], len(srv.events.signIns)-1
	srv.events.mu.Unlock()
	if uint64(granted) < got.Requests || failed != 0 {
		t.Errorf("server granted %d sign-ins (%d other outcomes); %d counted", granted,
			failed, got.Requests)
	}
	users := map[int64]bool{}
	for _, s := range srv.Sessions(t) {
		users[s.UserID] = true
	}
	if len(users) != testUsers {
		t.Errorf("sessions of %d users, want %d", len(users), testUsers)
	}
}

// TestRun_errorKinds checks that failed requests are counted by status and
// OAuth error code, and are kept out of the rate and the latencies.
func TestRun_errorKinds(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"error":"temporarily_unavailable"}`)
	}))
	defer srv.Close()

	got, err := load.Run(context.Background(), testConfig(srv.URL, "trivial"))
	if err != nil {
		t.Fatal(err)
	}

	if got.Requests != 0 || got.PerSecond != 0 || got.Latency != (load.Latency{}) {
		t.Errorf("requests %d at %f/s, latency %+v; want none", got.Requests, got.PerSecond,
			got.Latency)
	}
	kinds := map[string]bool{}
	for k := range got.ErrorKinds {
		kinds[k] = true
	}
	if diff := cmp.Diff(kinds, map[string]bool{"503 temporarily_unavailable": true}); diff != "" {
		t.Errorf("error kinds (-got +want):\n%s", diff)
	}
	if n := got.ErrorKinds["503 temporarily_unavailable"]; n != got.Errors || n == 0 {
		t.Errorf("%d errors of the kind, %d in all; want the same, above 0", n, got.Errors)
	}
}

// TestRun_setUpFails checks that a run whose workers cannot sign in stops
// before it starts, and says which account failed and how.
func TestRun_setUpFails(t *testing.T) {
	srv := MustStartServer(t)
	cfg := testConfig(srv.url, "verify")
	cfg.Password = "not-the-password"

	_, err := load.Run(context.Background(), cfg)

	if err == nil {
		t.Fatal("run with a wrong password succeeded")
	}
	for _, want := range []string{`sign in as "bench-1"`, "invalid_grant"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), cfg.Password) {
		t.Errorf("error %q holds the password", err)
	}
}

func TestConfig_Validate(t *testing.T) {
	good := testConfig("http://127.0.0.1:8080", "trivial")
	tests := []struct {
		name    string
		change  func(*load.Config)
		wantErr string
	}{
		{name: "good", change: func(*load.Config) {}},
		{name: "no-url", change: func(c *load.Config) { c.URL = "127.0.0.1:8080" },
			wantErr: "url:"},
		{name: "unknown-scenario", change: func(c *load.Config) { c.Scenario = "nap" },
			wantErr: `scenario: "nap" is not one of jwt, me, password, refresh, session, ` +
				`signin, trivial, verify`},
		{name: "no-workers", change: func(c *load.Config) { c.Concurrency = 0 },
			wantErr: "concurrency:"},
		{name: "no-duration", change: func(c *load.Config) { c.Duration = 0 },
			wantErr: "duration:"},
		{name: "negative-warmup", change: func(c *load.Config) { c.Warmup = -time.Second },
			wantErr: "warmup:"},
		{name: "net/http-client", change: func(c *load.Config) { c.Client = "net/http" }},
		{name: "unknown-client", change: func(c *load.Config) { c.Client = "curl" },
			wantErr: `client: "curl" is not raw or net/http`},
		{name: "raw-https", change: func(c *load.Config) {
			c.URL, c.Client = "https://127.0.0.1:8443", "raw"
		}, wantErr: "client: raw speaks plain HTTP only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.change(&cfg)

			err := cfg.Validate()

			got := ""
			if err != nil {
				got = err.Error()
			}
			if tt.wantErr == "" && got != "" || !strings.HasPrefix(got, tt.wantErr) {
				t.Errorf("Validate() = %q, want %q", got, tt.wantErr)
			}
		})
	}
}

// TestRun_DatabaseProcess names this test process as the database too, so
// that the server and the "database" each used the same CPU time: the rate
// per CPU-second of the two together must be half the server's alone.
func TestRun_DatabaseProcess(t *testing.T) {
	comm, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Skipf("no /proc on this system: %v", err)
	}
	srv := MustStartServer(t)
	cfg := testConfig(srv.url, "trivial")
	cfg.ServerPID = os.Getpid()
	cfg.DatabaseProcess = strings.TrimSpace(string(comm))

	got := MustRun(t, cfg)

	if got.DatabaseCPUSeconds <= 0 || got.PerCPUSecond <= 0 {
		t.Fatalf("database used %fs of CPU, %f requests per CPU-second; want both",
			got.DatabaseCPUSeconds, got.PerCPUSecond)
	}
	// The readings of the two are taken a moment apart, in 10 ms ticks, over
	// a short window, so the bounds are loose: they still catch a process
	// counted once or three times.
	if ratio := got.PerServerCPUSecond / got.PerCPUSecond; ratio < 1.6 || ratio > 2.4 {
		t.Errorf("per server CPU-second %f, per server+database CPU-second %f; "+
			"want a ratio of 2", got.PerServerCPUSecond, got.PerCPUSecond)
	}

	cfg.DatabaseProcess = "no-such-process-name"
	if _, err := load.Run(t.Context(), cfg); err == nil ||
		!strings.Contains(err.Error(), "no process named") {
		t.Errorf("Run with an absent database process: %v; want it named", err)
	}
}
