package ratelimit_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gatepass/gatepass/ratelimit"
)

// startTime is the fake clock's first reading.
var startTime = time.Date(2031, 5, 17, 9, 30, 0, 0, time.UTC)

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time          { return c.now }
func (c *fakeClock) Advance(d time.Duration) { c.now = c.now.Add(d) }

// MustNewLimiter returns a limiter of limit per period on a fake clock.
func MustNewLimiter(tb testing.TB, limit int, period time.Duration) (*ratelimit.Limiter,
	*fakeClock) {
	tb.Helper()
	clock := &fakeClock{now: startTime}
	l := ratelimit.NewLimiter(limit, period)
	l.Now = clock.Now
	return l, clock
}

// allow calls l.Allow and fails the test on an error, which never happens.
func allow(tb testing.TB, l *ratelimit.Limiter, key string) (bool, time.Duration) {
	tb.Helper()
	ok, d, err := l.Allow(context.Background(), key)
	if err != nil {
		tb.Fatal(err)
	}
	return ok, d
}

func TestAllow_burstThenRefuse(t *testing.T) {
	l, _ := MustNewLimiter(t, 5, time.Minute)
	for i := range 5 {
		if ok, d := allow(t, l, "login:user:alice"); !ok {
			t.Fatalf("attempt %d refused, retry after %s", i+1, d)
		}
	}

	ok, got := allow(t, l, "login:user:alice")
	if ok {
		t.Fatal("6th attempt allowed")
	}
	// One token comes back every period/limit.
	if want := 12 * time.Second; got != want {
		t.Errorf("retryAfter = %s, want %s", got, want)
	}

	// A refusal takes nothing: the wait does not grow.
	if _, got := allow(t, l, "login:user:alice"); got != 12*time.Second {
		t.Errorf("retryAfter after a second refusal = %s, want 12s", got)
	}
}

func TestAllow_keysIndependent(t *testing.T) {
	l, _ := MustNewLimiter(t, 1, time.Minute)
	if ok, _ := allow(t, l, "login:user:alice"); !ok {
		t.Fatal("alice refused")
	}
	if ok, _ := allow(t, l, "login:user:bob"); !ok {
		t.Error("bob refused after alice used her only attempt")
	}
	if ok, _ := allow(t, l, "login:user:alice"); ok {
		t.Error("alice allowed a second attempt")
	}
}

func TestAllow_refill(t *testing.T) {
	l, clock := MustNewLimiter(t, 5, time.Minute)
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
		t.Fatal("allowed a second attempt on one refilled token")
	}

	// After a whole period the full burst is back.
	clock.Advance(time.Minute)
	for i := range 5 {
		if ok, _ := allow(t, l, "k"); !ok {
			t.Fatalf("attempt %d after a full refill refused", i+1)
		}
	}
}

func TestAllow_maxKeys(t *testing.T) {
	l, _ := MustNewLimiter(t, 1, time.Minute)
	l.MaxKeys = 100
	for i := range 1000 {
		allow(t, l, fmt.Sprintf("login:ip:192.0.2.%d", i))
		if got := l.Len(); got > l.MaxKeys {
			t.Fatalf("after %d keys Len() = %d, want at most %d", i+1, got, l.MaxKeys)
		}
	}

	// The most recent keys are still counted.
	if ok, _ := allow(t, l, "login:ip:192.0.2.999"); ok {
		t.Error("most recent key forgot its count")
	}
}

func TestAllow_forgetsIdleKeys(t *testing.T) {
	l, clock := MustNewLimiter(t, 2, time.Minute)
	for i := range 50 {
		allow(t, l, fmt.Sprintf("k%d", i))
	}
	if got, want := l.Len(), 50; got != want {
		t.Fatalf("Len() = %d, want %d", got, want)
	}

	// Once a bucket has had a whole period to refill it is dropped.
	clock.Advance(time.Minute)
	allow(t, l, "fresh")
	if got, want := l.Len(), 1; got != want {
		t.Errorf("Len() after a period idle = %d, want %d", got, want)
	}
}
