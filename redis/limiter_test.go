package redis_test

import (
	"context"
	"crypto/rand"
	"os"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/redis"
)

// startTime is the fake clock's first reading.
var startTime = time.Date(2031, 5, 17, 9, 30, 0, 0, time.UTC)

// fakeClock is a clock the test moves by hand, shared by several limiters.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testURL returns GATEPASS_TEST_REDIS, or skips the test when it is unset.
func testURL(tb testing.TB) string {
	tb.Helper()
	url := os.Getenv("GATEPASS_TEST_REDIS")
	if url == "" {
		tb.Skip("GATEPASS_TEST_REDIS not set (e.g. redis://127.0.0.1:6379/0); " +
			"skipping Redis tests")
	}
	return url
}

// MustOpenLimiters opens n limiters of limit per period on the test server,
// sharing one random key prefix and one fake clock. Their keys are deleted when
// the test ends.
func MustOpenLimiters(tb testing.TB, n, limit int, period time.Duration) ([]*redis.Limiter,
	*fakeClock) {
	tb.Helper()
	url := testURL(tb)
	prefix := "gatepass-test:" + rand.Text() + ":"
	clock := &fakeClock{now: startTime}

	var ls []*redis.Limiter
	for range n {
		l := redis.NewLimiter(url, limit, period)
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

// deletePrefix deletes every key that starts with prefix.
func deletePrefix(tb testing.TB, url, prefix string) {
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

// allow calls l.Allow and fails the test on an error.
func allow(tb testing.TB, l *redis.Limiter, key string) (bool, time.Duration) {
	tb.Helper()
	ok, d, err := l.Allow(context.Background(), key)
	if err != nil {
		tb.Fatal(err)
	}
	return ok, d
}

func TestLimiter_sharedCount(t *testing.T) {
	ls, _ := MustOpenLimiters(t, 2, 5, time.Minute)

	// Two instances take turns: together they get the burst, not each.
	for i := range 5 {
		if ok, d := allow(t, ls[i%2], "login:user:alice"); !ok {
			t.Fatalf("attempt %d refused, retry after %s", i+1, d)
		}
	}
	for i, l := range ls {
		ok, got := allow(t, l, "login:user:alice")
		if ok {
			t.Fatalf("instance %d allowed a 6th attempt", i)
		}
		if want := 12 * time.Second; got != want {
			t.Errorf("instance %d: retryAfter = %s, want %s", i, got, want)
		}
	}

	if ok, _ := allow(t, ls[1], "login:user:bob"); !ok {
		t.Error("another key refused")
	}
}

func TestLimiter_refill(t *testing.T) {
	ls, clock := MustOpenLimiters(t, 1, 5, time.Minute)
	l := ls[0]
	for range 5 {
		allow(t, l, "k")
	}

	clock.Advance(11 * time.Second)
	if ok, d := allow(t, l, "k"); ok {
		t.Fatal("allowed before a token came back")
	} else if want := time.Second; d != want {
		t.Errorf("retryAfter = %s, want %s", d, want)
	}

	clock.Advance(time.Second)
	if ok, _ := allow(t, l, "k"); !ok {
		t.Fatal("refused after one token came back")
	}
	if ok, _ := allow(t, l, "k"); ok {
		t.Fatal("allowed twice on one refilled token")
	}
}

// TestLimiter_serverClock runs the script on Redis's own clock, the default.
func TestLimiter_serverClock(t *testing.T) {
	ls, _ := MustOpenLimiters(t, 1, 2, time.Hour)
	l := ls[0]
	l.Now = nil
	allow(t, l, "k")
	allow(t, l, "k")

	ok, d := allow(t, l, "k")
	if ok {
		t.Fatal("3rd attempt allowed")
	} else if d <= 0 || d > 30*time.Minute {
		t.Errorf("retryAfter = %s, want in (0, 30m]", d)
	}
}

func TestLimiter_unavailable(t *testing.T) {
	testURL(t)
	l := redis.NewLimiter("redis://127.0.0.1:1/0", 5, time.Minute)
	if err := l.Open(); err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	ok, _, err := l.Allow(context.Background(), "k")
	if ok {
		t.Error("allowed with no server")
	}
	if got, want := gatepass.ErrorCode(err), gatepass.EUNAVAILABLE; got != want {
		t.Errorf("code = %q, want %q (err %v)", got, want, err)
	}
	if got, want := gatepass.ErrorCode(l.Ping(context.Background())),
		gatepass.EUNAVAILABLE; got != want {
		t.Errorf("Ping code = %q, want %q", got, want)
	}
}

func TestOpen_badURL(t *testing.T) {
	l := redis.NewLimiter("http://secret@example.test", 5, time.Minute)
	if got, want := gatepass.ErrorCode(l.Open()), gatepass.EINVALID; got != want {
		t.Errorf("code = %q, want %q", got, want)
	}
}
