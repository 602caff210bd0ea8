package redis_test

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	goredis "github.com/redis/go-redis/v9"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/redis"
)

// MustOpenLockouts opens n lockouts with the default policy on the test server,
// sharing one random key prefix and one fake clock, as instances behind a load
// balancer share a server. Their keys are deleted when the test ends.
func MustOpenLockouts(tb testing.TB, n int) ([]*redis.Lockout, *fakeClock) {
	tb.Helper()
	url := testURL(tb)
	prefix := "gatepass-test:" + rand.Text() + ":"
	clock := &fakeClock{now: startTime}

	var ls []*redis.Lockout
	for range n {
		l := redis.NewLockout(url, gatepass.DefaultLockoutPolicy())
		l.Prefix = prefix
		l.Now = clock.Now
		if err := l.Open(); err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { l.Close() })
		if err := l.Ping(context.Background()); err != nil {
			tb.Fatal(err)
		}
		ls = append(ls, l)
	}
	tb.Cleanup(func() { deletePrefix(tb, url, prefix) })
	return ls, clock
}

// fail records a failure for key and fails the test on an error.
func fail(tb testing.TB, l *redis.Lockout, key string) time.Duration {
	tb.Helper()
	d, err := l.Fail(context.Background(), key)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// locked returns how long key stays locked and fails the test on an error.
func locked(tb testing.TB, l *redis.Lockout, key string) time.Duration {
	tb.Helper()
	d, err := l.Locked(context.Background(), key)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// TestLockout_sharedGrowsToCap has two instances take turns failing, each just
// as the lock of the other's failure ended: they share one count, and the locks
// follow the policy up to its cap.
func TestLockout_sharedGrowsToCap(t *testing.T) {
	ls, clock := MustOpenLockouts(t, 2)
	var got []time.Duration
	for i := range 20 {
		l, other := ls[i%2], ls[(i+1)%2]
		d := fail(t, l, "login:user:alice")
		if left := locked(t, other, "login:user:alice"); left != d {
			t.Errorf("failure %d locked for %s, the other instance says %s", i+1, d, left)
		}
		got = append(got, d)
		clock.Advance(d)
	}

	p := gatepass.DefaultLockoutPolicy()
	var want []time.Duration
	for n := 1; n <= 20; n++ {
		want = append(want, p.Delay(n))
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("locks (-got +want):\n%s", diff)
	}
}

func TestLockout_unlocksByItself(t *testing.T) {
	ls, clock := MustOpenLockouts(t, 1)
	l := ls[0]
	for range 7 {
		fail(t, l, "k")
	}

	clock.Advance(1500 * time.Millisecond)
	if got, want := locked(t, l, "k"), 500*time.Millisecond; got != want {
		t.Errorf("Locked after 1.5s of 2s = %s, want %s", got, want)
	}
	clock.Advance(500 * time.Millisecond)
	if got := locked(t, l, "k"); got != 0 {
		t.Errorf("Locked after the lock = %s, want 0", got)
	}
	if got, want := fail(t, l, "k"), 4*time.Second; got != want {
		t.Errorf("8th failure locked for %s, want %s", got, want)
	}
}

func TestLockout_forgetsAfterQuietPeriod(t *testing.T) {
	tests := []struct {
		name  string
		quiet time.Duration
		want  time.Duration // lock of the next failure
	}{
		{name: "just-before", quiet: 30*time.Minute - time.Millisecond,
			want: 16 * time.Second},
		{name: "just-after", quiet: 30 * time.Minute, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ls, clock := MustOpenLockouts(t, 1)
			for range 9 {
				fail(t, ls[0], "k")
			}

			clock.Advance(tt.quiet)
			if got := fail(t, ls[0], "k"); got != tt.want {
				t.Errorf("failure after %s quiet locked for %s, want %s", tt.quiet, got,
					tt.want)
			}
		})
	}
}

// TestLockout_keysExpire checks that Redis itself forgets a key once its quiet
// period is over, so keys nobody fails on again take no memory.
func TestLockout_keysExpire(t *testing.T) {
	ls, _ := MustOpenLockouts(t, 1)
	l := ls[0]
	fail(t, l, "k")

	opt, err := goredis.ParseURL(testURL(t))
	if err != nil {
		t.Fatal(err)
	}
	c := goredis.NewClient(opt)
	defer c.Close()
	ttl, err := c.PTTL(context.Background(), l.Prefix+"k").Result()
	if err != nil {
		t.Fatal(err)
	}
	if forget := gatepass.DefaultLockoutPolicy().Forget; ttl <= 0 || ttl > forget {
		t.Errorf("key TTL = %s, want in (0, %s]", ttl, forget)
	}
}

func TestLockout_resetAndKeysIndependent(t *testing.T) {
	ls, _ := MustOpenLockouts(t, 2)
	for range 10 {
		fail(t, ls[0], "login:user:alice")
		fail(t, ls[0], "login:ip:192.0.2.1")
	}
	if got := locked(t, ls[1], "login:user:bob"); got != 0 {
		t.Errorf("bob locked for %s by others' failures", got)
	}

	// A reset made by one instance is seen by the other, and touches one key.
	if err := ls[1].Reset(context.Background(), "login:user:alice"); err != nil {
		t.Fatal(err)
	}
	if got := locked(t, ls[0], "login:user:alice"); got != 0 {
		t.Errorf("alice locked for %s after Reset", got)
	}
	if got := locked(t, ls[0], "login:ip:192.0.2.1"); got == 0 {
		t.Error("Reset of alice unlocked the address")
	}
	if got := fail(t, ls[0], "login:user:alice"); got != 0 {
		t.Errorf("first failure after Reset locked for %s", got)
	}
}

// TestLockout_serverClock runs the scripts on Redis's own clock, the default.
func TestLockout_serverClock(t *testing.T) {
	ls, _ := MustOpenLockouts(t, 1)
	l := ls[0]
	l.Now = nil
	for range 5 {
		fail(t, l, "k")
	}
	if got, want := fail(t, l, "k"), time.Second; got != want {
		t.Fatalf("6th failure locked for %s, want %s", got, want)
	}
	if got := locked(t, l, "k"); got <= 0 || got > time.Second {
		t.Errorf("Locked = %s, want in (0, 1s]", got)
	}
}

func TestLockout_unavailable(t *testing.T) {
	testURL(t)
	l := redis.NewLockout("redis://127.0.0.1:1/0", gatepass.DefaultLockoutPolicy())
	if err := l.Open(); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()

	_, lockedErr := l.Locked(ctx, "k")
	_, failErr := l.Fail(ctx, "k")
	for name, err := range map[string]error{"Locked": lockedErr, "Fail": failErr,
		"Reset": l.Reset(ctx, "k"), "Ping": l.Ping(ctx)} {
		if got, want := gatepass.ErrorCode(err), gatepass.EUNAVAILABLE; got != want {
			t.Errorf("%s: code = %q, want %q (err %v)", name, got, want, err)
		}
	}
}

func TestNewLockout_badURL(t *testing.T) {
	l := redis.NewLockout("http://u:s3cret@example.test", gatepass.DefaultLockoutPolicy())
	err := l.Open()
	if got, want := gatepass.ErrorCode(err), gatepass.EINVALID; got != want {
		t.Errorf("code = %q, want %q", got, want)
	} else if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error %q quotes the URL's password", err)
	}
}
