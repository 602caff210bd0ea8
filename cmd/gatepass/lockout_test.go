package main_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	goredis "github.com/redis/go-redis/v9"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/auth"
	"github.com/gatepass/gatepass/httpapi"
	"github.com/gatepass/gatepass/password"
	"github.com/gatepass/gatepass/ratelimit"
	"github.com/gatepass/gatepass/sqlite"
)

// lockoutClock is a fake clock the test moves by hand.
type lockoutClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *lockoutClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *lockoutClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// lockoutServer is the HTTP API of a service with the default lockout policies,
// served on loopback, on a fake clock.
type lockoutServer struct {
	URL   string
	Clock *lockoutClock
}

// MustStartLockoutServer serves a new database holding alice, whose password is
// alice-password.
func MustStartLockoutServer(tb testing.TB) *lockoutServer {
	tb.Helper()
	ctx := context.Background()
	clock := &lockoutClock{now: time.Date(2031, 5, 17, 9, 30, 0, 0, time.UTC)}
	discard := slog.New(slog.DiscardHandler)

	db := sqlite.NewDB(filepath.Join(tb.TempDir(), "gatepass.db"))
	db.Now, db.Logger = clock.Now, discard
	if err := db.Open(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })

	hasher := password.NewHasher(0)
	hasher.Time, hasher.Memory = 1, 64
	svc := auth.NewService(db, hasher, auth.DefaultConfig())
	svc.Now, svc.Logger = clock.Now, discard
	account := ratelimit.NewLockout(gatepass.DefaultLockoutPolicy())
	address := ratelimit.NewLockout(gatepass.DefaultAddressLockoutPolicy())
	account.Now, address.Now = clock.Now, clock.Now
	svc.Lockout, svc.AddressLockout = account, address
	if err := svc.Open(ctx); err != nil {
		tb.Fatal(err)
	}
	if _, err := svc.CreateUser(ctx, auth.NewUser{Name: "alice",
		Password: "alice-password"}); err != nil {
		tb.Fatal(err)
	}

	api := httpapi.NewServer(svc)
	api.Logger = discard
	srv := httptest.NewServer(api.Handler())
	tb.Cleanup(srv.Close)
	return &lockoutServer{URL: srv.URL, Clock: clock}
}

// answer is what a client sees of a response, minus what differs on every one.
type answer struct {
	Status       int
	RetryAfter   string
	CacheControl string
	Body         map[string]any
}

// signIn posts a username and password to path as a form: the password grant
// for /oauth/token, the browser sign-in for /auth/login.
func signIn(tb testing.TB, base, path, username, pw string) (answer, *http.Response) {
	tb.Helper()
	form := url.Values{"username": {username}, "password": {pw}}
	if path == "/oauth/token" {
		form.Set("grant_type", "password")
	}
	res, err := http.PostForm(base+path, form)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	a := answer{Status: res.StatusCode, RetryAfter: res.Header.Get("Retry-After"),
		CacheControl: res.Header.Get("Cache-Control")}
	if err := json.Unmarshal(b, &a.Body); err != nil {
		tb.Fatalf("%s: body %q: %v", path, b, err)
	}
	return a, res
}

// lockedAnswer is the answer to a sign-in during a lock of 1s.
var lockedAnswer = answer{Status: http.StatusTooManyRequests, RetryAfter: "1",
	CacheControl: "no-store", Body: map[string]any{"error": "too_many_requests",
		"error_description": "too many attempts; try again later"}}

// TestLockout_overHTTP checks both sign-in endpoints on a locked account: 429
// with a real Retry-After, the same for an existing and an unknown account and
// whatever the password, and the right password working once the lock is over.
func TestLockout_overHTTP(t *testing.T) {
	for _, path := range []string{"/oauth/token", "/auth/login"} {
		answers := map[string]answer{}
		for _, tt := range []struct {
			name     string
			username string
			password string // sent during the lock
		}{
			{name: "existing-right-password", username: "alice", password: "alice-password"},
			{name: "existing-wrong-password", username: "alice", password: "guess-7"},
			{name: "unknown", username: "mallory", password: "alice-password"},
		} {
			t.Run(strings.TrimPrefix(path, "/")+"/"+tt.name, func(t *testing.T) {
				srv := MustStartLockoutServer(t)
				for i := range 6 {
					got, _ := signIn(t, srv.URL, path, tt.username, "wrong password")
					if got.Status != http.StatusBadRequest ||
						got.Body["error"] != "invalid_grant" {
						t.Fatalf("failure %d: %+v, want 400 invalid_grant", i+1, got)
					}
				}

				got, _ := signIn(t, srv.URL, path, tt.username, tt.password)
				if diff := cmp.Diff(got, lockedAnswer); diff != "" {
					t.Errorf("during the lock (-got +want):\n%s", diff)
				}
				answers[tt.name] = got

				srv.Clock.Advance(time.Second)
				got, res := signIn(t, srv.URL, path, "alice", "alice-password")
				if got.Status != http.StatusOK {
					t.Fatalf("right password after the lock: %+v", got)
				}
				if path == "/oauth/token" && got.Body["access_token"] == nil {
					t.Errorf("no access token after the lock: %+v", got.Body)
				} else if path == "/auth/login" && len(res.Cookies()) == 0 {
					t.Errorf("no cookies set after the lock")
				}
			})
		}
		for name, a := range answers {
			if diff := cmp.Diff(a, answers["existing-right-password"]); diff != "" {
				t.Errorf("%s %s answered unlike the right password (-got +want):\n%s",
					path, name, diff)
			}
		}
	}
}

// failUntilLocked signs in as name with a wrong password until the server
// answers 429, and returns that answer. Each failure past the free ones locks
// for twice as long, so on the real clock a lock is soon long enough to be met.
func failUntilLocked(tb testing.TB, base, name string) answer {
	tb.Helper()
	for range 20 {
		a, _ := signIn(tb, base, "/oauth/token", name, "wrong password")
		if a.Status == http.StatusTooManyRequests {
			return a
		} else if a.Status != http.StatusBadRequest {
			tb.Fatalf("failed sign-in: %+v", a)
		}
	}
	tb.Fatal("20 failed sign-ins and no lockout")
	return answer{}
}

// retryAfter returns the whole seconds of a's Retry-After.
func retryAfter(tb testing.TB, a answer) int {
	tb.Helper()
	n, err := strconv.Atoi(a.RetryAfter)
	if err != nil {
		tb.Fatalf("Retry-After = %q, want whole seconds", a.RetryAfter)
	}
	return n
}

func TestServe_lockout(t *testing.T) {
	p := NewProgram(t)
	p.Env["GATEPASS_LOCKOUT_MAX"] = "2s"
	srv := p.MustServe(t, "--lockout", "1", "--rate-limit", "100/m")
	want := `level=INFO msg="sign-in lockout" store=memory account_free_failures=1 ` +
		`address_free_failures=20 first_lock=1s max_lock=2s forget_after=4s`
	if got := srv.Stderr.String(); !strings.Contains(got, want) {
		t.Errorf("logs lack %q:\n%s", want, got)
	}

	if a, _ := signIn(t, srv.URL, "/oauth/token", "alice", "wrong"); a.Status !=
		http.StatusBadRequest {
		t.Fatalf("first failure: %+v, want 400", a)
	}
	a := failUntilLocked(t, srv.URL, "alice")
	// The exact wait is tested on fake clocks; on the real one, only its bounds.
	if got := retryAfter(t, a); got < 1 || got > 2 {
		t.Errorf("Retry-After = %d, want in [1, 2] (--lockout-max 2s)", got)
	}
	a.RetryAfter = "1"
	if diff := cmp.Diff(a, lockedAnswer); diff != "" {
		t.Errorf("locked answer (-got +want):\n%s", diff)
	}
}

// TestServe_lockoutAddressOnly checks that --lockout off leaves the address
// lockout on: guesses spread over many names from one address are stopped.
func TestServe_lockoutAddressOnly(t *testing.T) {
	p := NewProgram(t)
	srv := p.MustServe(t, "--lockout", "off", "--lockout-address", "3",
		"--rate-limit", "100/m")
	if got, want := srv.Stderr.String(), `account_free_failures=off `+
		`address_free_failures=3`; !strings.Contains(got, want) {
		t.Errorf("logs lack %q:\n%s", want, got)
	}

	for i := range 20 {
		a, _ := signIn(t, srv.URL, "/oauth/token", "user"+strconv.Itoa(i), "wrong")
		if a.Status == http.StatusTooManyRequests {
			if i < 4 {
				t.Errorf("locked out after %d failures, want at least 4", i)
			}
			return
		} else if a.Status != http.StatusBadRequest {
			t.Fatalf("attempt %d: %+v", i+1, a)
		}
	}
	t.Error("20 failures from one address and no lockout")
}

func TestServe_lockoutOff(t *testing.T) {
	p := NewProgram(t)
	p.Env["GATEPASS_LOCKOUT"] = "off"
	p.Env["GATEPASS_LOCKOUT_ADDRESS"] = "off"
	srv := p.MustServe(t, "--rate-limit", "100/m")
	if got := srv.Stderr.String(); !strings.Contains(got,
		`level=WARN msg="sign-in lockout off"`) {
		t.Errorf("no warning that the lockout is off:\n%s", got)
	}

	for i := range 30 {
		if a, _ := signIn(t, srv.URL, "/oauth/token", "alice", "wrong"); a.Status !=
			http.StatusBadRequest {
			t.Fatalf("attempt %d: %+v, want 400", i+1, a)
		}
	}
}

// TestServe_lockoutInRedis checks that --redis keeps the lockout in Redis, where
// every instance sees it.
func TestServe_lockoutInRedis(t *testing.T) {
	redisURL := os.Getenv("GATEPASS_TEST_REDIS")
	if redisURL == "" {
		t.Skip("GATEPASS_TEST_REDIS not set (e.g. redis://127.0.0.1:6379/0); " +
			"skipping Redis tests")
	}
	// The keys are the server's own, so the name is random and every key the
	// sign-ins wrote is deleted at the end, the address keys included.
	name := strings.ToLower(rand.Text())
	keys := []string{"gatepass:lockout:login:user:" + name,
		"gatepass:lockout:login:ip:127.0.0.1"}
	written := append([]string{"gatepass:ratelimit:login:user:" + name,
		"gatepass:ratelimit:login:ip:127.0.0.1"}, keys...)
	opt, err := goredis.ParseURL(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	c := goredis.NewClient(opt)
	t.Cleanup(func() {
		if err := c.Del(context.Background(), written...).Err(); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		c.Close()
	})

	p := NewProgram(t)
	srv := p.MustServe(t, "--redis", redisURL, "--lockout", "0", "--rate-limit", "100/m")
	if got := srv.Stderr.String(); !strings.Contains(got,
		`msg="sign-in lockout" store=redis account_free_failures=0`) {
		t.Errorf("logs do not name Redis as the lockout's store:\n%s", got)
	}

	failUntilLocked(t, srv.URL, name)
	for _, key := range keys {
		ttl, err := c.PTTL(context.Background(), key).Result()
		if err != nil {
			t.Fatal(err)
		} else if ttl <= 0 || ttl > 30*time.Minute {
			t.Errorf("%s: TTL = %s, want in (0, 30m]", key, ttl)
		}
	}
}

func TestServe_rejectsBadLockout(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{name: "negative", args: []string{"--lockout", "-1"}, want: "lockout"},
		{name: "not-a-number", args: []string{"--lockout", "five"}, want: "lockout"},
		{name: "env", env: map[string]string{"GATEPASS_LOCKOUT": "on"},
			want: "GATEPASS_LOCKOUT"},
		{name: "address", args: []string{"--lockout-address", "many"},
			want: "lockout-address"},
		{name: "max-too-short", args: []string{"--lockout-max", "500ms"},
			want: "lockout-max"},
		{name: "max-zero", args: []string{"--lockout-max", "0s"}, want: "lockout-max"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewProgram(t)
			for k, v := range tt.env {
				p.Env[k] = v
			}
			args := append([]string{"serve", "--addr", "127.0.0.1:0"}, tt.args...)
			r := p.Run("", args...)
			if r.Err == nil || !strings.Contains(r.Err.Error(), tt.want) {
				t.Errorf("err = %v, want one naming %s", r.Err, tt.want)
			}
		})
	}
}
