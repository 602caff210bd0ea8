package auth_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/auth"
	"github.com/gatepass/gatepass/ratelimit"
	"github.com/gatepass/gatepass/redis"
)

// MustOpenLockoutEnv opens a service with lockouts kept in memory, on the env's
// fake clock, logging into the returned buffer. Accounts and addresses both
// follow the default account policy, so that tests of either count alike. It
// has no rate limiter, so every refusal comes from a lockout.
func MustOpenLockoutEnv(tb testing.TB) (*Env, *bytes.Buffer) {
	tb.Helper()
	env := MustOpenEnv(tb, nil)
	account := ratelimit.NewLockout(gatepass.DefaultLockoutPolicy())
	address := ratelimit.NewLockout(gatepass.DefaultLockoutPolicy())
	account.Now, address.Now = env.Clock.Now, env.Clock.Now
	env.Service.Lockout, env.Service.AddressLockout = account, address

	var logs bytes.Buffer
	env.Service.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	return env, &logs
}

// lockedFor is the error of a sign-in refused for d by a lockout. It is the
// rate limiter's, so the two cannot be told apart either.
func lockedFor(d time.Duration) error {
	return &gatepass.Error{Code: gatepass.ETOOMANY,
		Message: "too many attempts; try again later", RetryAfter: d}
}

// mustFail makes n sign-ins as name with a wrong password, the i-th from
// address(i), and fails the test unless each is refused as invalid credentials.
func mustFail(tb testing.TB, env *Env, name string, n int, address func(i int) string) {
	tb.Helper()
	for i := range n {
		err := login(env, name, "wrong password", address(i))
		if !errors.Is(err, gatepass.ErrInvalidCredentials) {
			tb.Fatalf("failure %d as %s: err = %v, want invalid credentials", i+1, name, err)
		}
	}
}

// fromMany spreads failures over many addresses, so only the account counts.
func fromMany(i int) string { return fmt.Sprintf("192.0.2.%d", i+1) }

// TestLogin_lockedOutAlike checks that a locked account is refused before its
// password is looked at: the same error and the same wait whether the account
// exists, is disabled or is given its right password.
func TestLogin_lockedOutAlike(t *testing.T) {
	tests := []struct {
		name     string
		username string
		password string // sent during the lock
		disable  bool
		after    error // the answer to the same sign-in once the lock is over
	}{
		{name: "wrong-password", username: "alice", password: "wrong password",
			after: gatepass.ErrInvalidCredentials},
		{name: "right-password", username: "alice", password: "alice-password"},
		{name: "unknown-account", username: "mallory", password: "mallory-password",
			after: gatepass.ErrInvalidCredentials},
		{name: "disabled-account", username: "alice", password: "alice-password",
			disable: true, after: gatepass.ErrInvalidCredentials},
	}
	got := map[string]error{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, logs := MustOpenLockoutEnv(t)
			env.MustCreateUser(t, "alice")
			if tt.disable {
				if err := env.Service.SetDisabled(t.Context(), "alice", true); err != nil {
					t.Fatal(err)
				}
			}
			mustFail(t, env, tt.username, 6, fromMany)

			err := login(env, tt.username, tt.password, "198.51.100.7")
			if diff := cmpDiff(err, lockedFor(time.Second)); diff != "" {
				t.Errorf("sign-in during the lock (-got +want):\n%s", diff)
			}
			got[tt.name] = err

			env.Clock.Advance(time.Second)
			err = login(env, tt.username, tt.password, "198.51.100.7")
			if !errors.Is(err, tt.after) {
				t.Errorf("sign-in after the lock: err = %v, want %v", err, tt.after)
			}
			for _, secret := range []string{"wrong password", tt.password, "mallory"} {
				if strings.Contains(logs.String(), secret) {
					t.Errorf("logs hold %q:\n%s", secret, logs)
				}
			}
		})
	}
	for name, err := range got {
		if diff := cmpDiff(err, got["wrong-password"]); diff != "" {
			t.Errorf("%s answered unlike wrong-password (-got +want):\n%s", name, diff)
		}
	}
}

// TestLogin_lockedOutSkipsPassword checks that no password is verified while a
// key is locked. The service is given no time to wait for a hashing slot, so any
// sign-in that got as far as the password would be refused as busy instead.
func TestLogin_lockedOutSkipsPassword(t *testing.T) {
	env, _ := MustOpenLockoutEnv(t)
	env.MustCreateUser(t, "alice")
	mustFail(t, env, "alice", 6, fromMany)
	env.Service.HashWait = 0

	err := login(env, "alice", "alice-password", "198.51.100.7")
	if diff := cmpDiff(err, lockedFor(time.Second)); diff != "" {
		t.Errorf("during the lock (-got +want):\n%s", diff)
	}

	// The control: once unlocked, the same sign-in reaches the hashing slots.
	env.Clock.Advance(time.Second)
	err = login(env, "alice", "alice-password", "198.51.100.7")
	if got, want := gatepass.ErrorCode(err), gatepass.EUNAVAILABLE; got != want {
		t.Errorf("after the lock: code = %q, want %q (err %v)", got, want, err)
	}
}

// TestLogin_busyCountsNoFailure checks that sign-ins refused as busy, before
// any password was judged, are neither failures in the log and the audit trail
// nor count towards a lockout, for an unknown account as for a known one.
func TestLogin_busyCountsNoFailure(t *testing.T) {
	env, logs := MustOpenLockoutEnv(t)
	env.MustCreateUser(t, "alice")
	env.Service.HashWait = 0
	for _, name := range []string{"alice", "nobody"} {
		for range 8 {
			err := login(env, name, "wrong password", "198.51.100.7")
			if got, want := gatepass.ErrorCode(err), gatepass.EUNAVAILABLE; got != want {
				t.Fatalf("%s with no hashing slot: code = %q, want %q (err %v)", name,
					got, want, err)
			}
		}
	}

	if strings.Contains(logs.String(), "sign-in failed") ||
		strings.Contains(logs.String(), "audit") {
		t.Errorf("busy refusals logged as failures:\n%s", logs)
	}

	env.Service.HashWait = time.Second
	for _, name := range []string{"alice", "nobody"} {
		err := login(env, name, "wrong password", "198.51.100.7")
		if !errors.Is(err, gatepass.ErrInvalidCredentials) {
			t.Errorf("%s after the busy refusals: %v, want invalid credentials", name, err)
		}
	}
}

// TestLogin_lockedOutPerAddress checks that failures on many accounts from one
// address lock that address, and only it; a /64 counts as one address.
func TestLogin_lockedOutPerAddress(t *testing.T) {
	env, _ := MustOpenLockoutEnv(t)
	env.MustCreateUser(t, "alice")
	for i := range 6 {
		mustFail(t, env, fmt.Sprintf("user%d", i), 1, func(int) string {
			return fmt.Sprintf("2001:db8:1:2::%x", i+1)
		})
	}

	err := login(env, "alice", "alice-password", "2001:db8:1:2:ffff::9")
	if diff := cmpDiff(err, lockedFor(time.Second)); diff != "" {
		t.Errorf("alice from the same /64 (-got +want):\n%s", diff)
	}
	if _, err := env.Service.Login(t.Context(), auth.LoginRequest{Username: "alice",
		Password: "alice-password",
		Client:   auth.Client{IPAddress: "2001:db8:1:3::1"}}); err != nil {
		t.Errorf("alice from another /64: %v", err)
	}
}

// TestLogin_lockedOutLongerWait checks that when both keys are locked, the answer
// gives the longer wait, so a client that waits as told is let in.
func TestLogin_lockedOutLongerWait(t *testing.T) {
	env, _ := MustOpenLockoutEnv(t)
	env.MustCreateUser(t, "alice")
	mustFail(t, env, "alice", 6, fromMany)
	env.Clock.Advance(time.Second)
	mustFail(t, env, "alice", 1, fromMany) // alice: locked for 2s
	mustFail(t, env, "bob", 6, func(int) string { return "203.0.113.9" })

	err := login(env, "alice", "alice-password", "203.0.113.9")
	if diff := cmpDiff(err, lockedFor(2*time.Second)); diff != "" {
		t.Errorf("both locked (-got +want):\n%s", diff)
	}
	env.Clock.Advance(2 * time.Second)
	if err := login(env, "alice", "alice-password", "203.0.113.9"); err != nil {
		t.Errorf("after the longer wait: %v", err)
	}
}

// TestLogin_lockoutsSeparate checks that the account and the address keys are
// each held by their own lockout, and that a service with only one of them
// counts only that key.
func TestLogin_lockoutsSeparate(t *testing.T) {
	tests := []struct {
		name    string
		address bool // keep the address lockout, drop the account one
		want    error
	}{
		{name: "account-only", want: gatepass.ErrInvalidCredentials},
		{name: "address-only", address: true, want: lockedFor(time.Second)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, _ := MustOpenLockoutEnv(t)
			if tt.address {
				env.Service.Lockout = nil
			} else {
				env.Service.AddressLockout = nil
			}

			// Six failures on six accounts from one address.
			for i := range 6 {
				mustFail(t, env, fmt.Sprintf("user%d", i), 1,
					func(int) string { return "203.0.113.9" })
			}
			err := login(env, "user9", "wrong password", "203.0.113.9")
			if diff := cmpDiff(err, tt.want); diff != "" {
				t.Errorf("7th failure from the address (-got +want):\n%s", diff)
			}
		})
	}
}

// TestLogin_successResetsAccountOnly checks that signing in forgets the
// account's failures but not the address's: an attacker signing in to their own
// account between guesses is still locked out.
func TestLogin_successResetsAccountOnly(t *testing.T) {
	env, _ := MustOpenLockoutEnv(t)
	env.MustCreateUser(t, "alice")
	env.MustCreateUser(t, "mallory")

	t.Run("account", func(t *testing.T) {
		mustFail(t, env, "alice", 5, fromMany)
		if err := login(env, "alice", "alice-password", "198.51.100.1"); err != nil {
			t.Fatal(err)
		}
		// Without the reset, the 6th failure here would lock her out.
		mustFail(t, env, "alice", 5, fromMany)
		if err := login(env, "alice", "alice-password", "198.51.100.2"); err != nil {
			t.Errorf("after 5 failures since signing in: %v", err)
		}
	})

	t.Run("address", func(t *testing.T) {
		attacker := func(int) string { return "203.0.113.66" }
		for i := range 5 {
			mustFail(t, env, fmt.Sprintf("victim%d", i), 1, attacker)
			if err := login(env, "mallory", "mallory-password", "203.0.113.66"); err != nil {
				t.Fatalf("mallory's own sign-in after guess %d: %v", i+1, err)
			}
		}
		mustFail(t, env, "victim5", 1, attacker)
		err := login(env, "mallory", "mallory-password", "203.0.113.66")
		if diff := cmpDiff(err, lockedFor(time.Second)); diff != "" {
			t.Errorf("after 6 guesses between own sign-ins (-got +want):\n%s", diff)
		}
	})
}

// TestLogin_lockoutObserved checks that refusals are counted under the key that
// caused them, and logged at Warn with the client address.
func TestLogin_lockoutObserved(t *testing.T) {
	env, logs := MustOpenLockoutEnv(t)
	m := MustObserve(t, env)
	mustFail(t, env, "alice", 6, fromMany)
	mustFail(t, env, "bob", 6, func(int) string { return "203.0.113.9" })
	login(env, "alice", "alice-password", "198.51.100.7")
	login(env, "carol", "carol-password", "203.0.113.9")

	want := map[string]float64{auth.LimitLockoutAccount: 1, auth.LimitLockoutAddress: 1}
	if diff := cmpDiff(counts(t, m, "gatepass_rate_limited_total"), want); diff != "" {
		t.Errorf("rate limited (-got +want):\n%s", diff)
	}
	want = map[string]float64{auth.OutcomeInvalidCredentials: 12,
		auth.OutcomeRateLimited: 2}
	if diff := cmpDiff(counts(t, m, "gatepass_sign_ins_total"), want); diff != "" {
		t.Errorf("sign-ins (-got +want):\n%s", diff)
	}
	for _, line := range []string{
		`level=WARN msg="sign-in locked out" limit=lockout_account retry_after=1s ` +
			`client_ip=198.51.100.7`,
		`level=WARN msg="sign-ins locked" limit=lockout_address retry_after=1s ` +
			`client_ip=203.0.113.9`,
	} {
		if !strings.Contains(logs.String(), line) {
			t.Errorf("logs lack %q:\n%s", line, logs)
		}
	}
}

// brokenLockout is a lockout whose store is down.
type brokenLockout struct{}

var errLockoutDown = gatepass.Errorf(gatepass.EUNAVAILABLE, "lockout unavailable")

func (brokenLockout) Locked(context.Context, string) (time.Duration, error) {
	return 0, errLockoutDown
}

func (brokenLockout) Fail(context.Context, string) (time.Duration, error) {
	return 0, errLockoutDown
}

func (brokenLockout) Reset(context.Context, string) error { return errLockoutDown }

var _ gatepass.Lockout = brokenLockout{}

// TestLogin_lockoutFailsOpen checks that a lockout whose store is down lets
// sign-ins be judged on their credentials, and logs an Error.
func TestLogin_lockoutFailsOpen(t *testing.T) {
	env, logs := MustOpenLockoutEnv(t)
	env.MustCreateUser(t, "alice")
	env.Service.Lockout, env.Service.AddressLockout = brokenLockout{}, brokenLockout{}

	mustFail(t, env, "alice", 10, fromMany)
	if err := login(env, "alice", "alice-password", "192.0.2.1"); err != nil {
		t.Errorf("login: %v", err)
	}
	for _, msg := range []string{"lockout failed, attempt allowed",
		"lockout failed, failure not counted", "lockout reset failed"} {
		if !strings.Contains(logs.String(), `level=ERROR msg="`+msg+`"`) {
			t.Errorf("no Error %q logged:\n%s", msg, logs)
		}
	}
}

// TestLogin_lockoutSharedInRedis runs two services, each with its own database
// and its own connection to one Redis, as two instances behind a load balancer:
// failures made on one lock the account on the other, and a sign-in on the
// other unlocks it for both.
func TestLogin_lockoutSharedInRedis(t *testing.T) {
	url := os.Getenv("GATEPASS_TEST_REDIS")
	if url == "" {
		t.Skip("GATEPASS_TEST_REDIS not set (e.g. redis://127.0.0.1:6379/0); " +
			"skipping Redis tests")
	}
	a := MustOpenEnv(t, nil)
	b := MustReopenEnv(t, filepath.Join(t.TempDir(), "gatepass.db"), a.Clock, nil)
	prefix := "gatepass-test:" + rand.Text() + ":"
	for _, env := range []*Env{a, b} {
		env.MustCreateUser(t, "alice")
		l := redis.NewLockout(url, gatepass.DefaultLockoutPolicy())
		l.Prefix, l.Now = prefix, a.Clock.Now
		if err := l.Open(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		env.Service.Lockout = l
	}
	t.Cleanup(func() { deleteRedisPrefix(t, url, prefix) })

	mustFail(t, a, "alice", 6, fromMany)
	err := login(b, "alice", "alice-password", "198.51.100.7")
	if diff := cmpDiff(err, lockedFor(time.Second)); diff != "" {
		t.Errorf("instance b during the lock (-got +want):\n%s", diff)
	}

	a.Clock.Advance(time.Second)
	if err := login(b, "alice", "alice-password", "198.51.100.7"); err != nil {
		t.Fatalf("instance b after the lock: %v", err)
	}
	mustFail(t, a, "alice", 5, fromMany)
	if err := login(a, "alice", "alice-password", "198.51.100.8"); err != nil {
		t.Errorf("instance a after b's sign-in and 5 failures: %v", err)
	}
}

// deleteRedisPrefix deletes every key that starts with prefix.
func deleteRedisPrefix(tb testing.TB, url, prefix string) {
	tb.Helper()
	opt, err := goredis.ParseURL(url)
	if err != nil {
		tb.Fatal(err)
	}
	c := goredis.NewClient(opt)
	defer c.Close()

	ctx := context.Background()
	keys, err := c.Keys(ctx, prefix+"*").Result()
	if err != nil {
		tb.Errorf("cleanup: %v", err)
	} else if len(keys) > 0 {
		if err := c.Del(ctx, keys...).Err(); err != nil {
			tb.Errorf("cleanup: %v", err)
		}
	}
}

// TestLogin_lockRecorded checks that the failed sign-in that starts a lock says
// so in its audit event, naming each lock and its length, and that the
// failures before it name none.
func TestLogin_lockRecorded(t *testing.T) {
	env, _ := MustOpenLockoutEnv(t)
	env.MustCreateUser(t, "alice")
	free := gatepass.DefaultLockoutPolicy().Free

	mustFail(t, env, "alice", free+1, func(int) string { return "192.0.2.1" })

	all, err := env.Service.FindAuditEvents(context.Background(), gatepass.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var events []*gatepass.AuditEvent
	for _, e := range all {
		if e.Kind == gatepass.AuditSignInFailed {
			events = append(events, e)
		}
	}
	if len(events) != free+1 {
		t.Fatalf("%d events, want %d", len(events), free+1)
	}
	// Newest first: the last failure started both locks, for a second each.
	want := auth.LimitLockoutAccount + "=1s " + auth.LimitLockoutAddress + "=1s"
	if got := events[0].Detail; got != want {
		t.Errorf("detail of the locking failure = %q, want %q", got, want)
	}
	for i, e := range events[1:] {
		if e.Detail != "" {
			t.Errorf("failure %d: detail %q, want none", free-i, e.Detail)
		}
	}
}
