package ratelimit_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/ratelimit"
)

// MustNewLockout returns a lockout with the default policy on a fake clock.
func MustNewLockout(tb testing.TB) (*ratelimit.Lockout, *fakeClock) {
	tb.Helper()
	clock := &fakeClock{now: startTime}
	l := ratelimit.NewLockout(gatepass.DefaultLockoutPolicy())
	l.Now = clock.Now
	return l, clock
}

// fail records a failure for key and returns the lock; it never fails.
func fail(tb testing.TB, l *ratelimit.Lockout, key string) time.Duration {
	tb.Helper()
	d, err := l.Fail(context.Background(), key)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// locked returns how long key stays locked; it never fails.
func locked(tb testing.TB, l *ratelimit.Lockout, key string) time.Duration {
	tb.Helper()
	d, err := l.Locked(context.Background(), key)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// TestLockout_growsToCap checks the locks of 20 failures in a row, each made
// just as the lock of the one before ended.
func TestLockout_growsToCap(t *testing.T) {
	l, clock := MustNewLockout(t)
	var got []time.Duration
	for range 20 {
		if d := locked(t, l, "login:user:alice"); d != 0 {
			t.Fatalf("locked for %s before failing again", d)
		}
		d := fail(t, l, "login:user:alice")
		if left := locked(t, l, "login:user:alice"); left != d {
			t.Errorf("Fail locked for %s, Locked says %s", d, left)
		}
		got = append(got, d)
		clock.Advance(d)
	}

	s := time.Second
	want := []time.Duration{0, 0, 0, 0, 0, s, 2 * s, 4 * s, 8 * s, 16 * s, 32 * s, 64 * s,
		128 * s, 256 * s, 512 * s, 15 * time.Minute, 15 * time.Minute, 15 * time.Minute,
		15 * time.Minute, 15 * time.Minute}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("locks (-got +want):\n%s", diff)
	}
}

func TestLockout_unlocksByItself(t *testing.T) {
	l, clock := MustNewLockout(t)
	for range 7 {
		fail(t, l, "k")
	}
	if got, want := locked(t, l, "k"), 2*time.Second; got != want {
		t.Fatalf("Locked = %s, want %s", got, want)
	}

	clock.Advance(1500 * time.Millisecond)
	if got, want := locked(t, l, "k"), 500*time.Millisecond; got != want {
		t.Errorf("Locked after 1.5s = %s, want %s", got, want)
	}
	clock.Advance(500 * time.Millisecond)
	if got := locked(t, l, "k"); got != 0 {
		t.Errorf("Locked after the lock = %s, want 0", got)
	}

	// The count is kept until the quiet period is over: the next failure locks
	// for longer.
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
			l, clock := MustNewLockout(t)
			for range 9 {
				fail(t, l, "k")
			}

			clock.Advance(tt.quiet)
			if got := fail(t, l, "k"); got != tt.want {
				t.Errorf("failure after %s quiet locked for %s, want %s", tt.quiet, got,
					tt.want)
			}
		})
	}
}

func TestLockout_reset(t *testing.T) {
	l, _ := MustNewLockout(t)
	for range 10 {
		fail(t, l, "login:user:alice")
		fail(t, l, "login:ip:192.0.2.1")
	}

	if err := l.Reset(context.Background(), "login:user:alice"); err != nil {
		t.Fatal(err)
	}
	if got := locked(t, l, "login:user:alice"); got != 0 {
		t.Errorf("alice locked for %s after Reset", got)
	}
	if got := locked(t, l, "login:ip:192.0.2.1"); got == 0 {
		t.Error("Reset of alice unlocked the address")
	}

	// Alice starts again with her free failures.
	for i := range 5 {
		if got := fail(t, l, "login:user:alice"); got != 0 {
			t.Errorf("failure %d after Reset locked for %s", i+1, got)
		}
	}
	if err := l.Reset(context.Background(), "never-seen"); err != nil {
		t.Errorf("Reset of an unknown key: %v", err)
	}
}

func TestLockout_keysIndependent(t *testing.T) {
	l, _ := MustNewLockout(t)
	for range 6 {
		fail(t, l, "login:user:alice")
	}
	if got := locked(t, l, "login:user:alice"); got != time.Second {
		t.Errorf("alice locked for %s, want 1s", got)
	}
	if got := locked(t, l, "login:user:bob"); got != 0 {
		t.Errorf("bob locked for %s by alice's failures", got)
	}
	if got := fail(t, l, "login:user:bob"); got != 0 {
		t.Errorf("bob's first failure locked for %s", got)
	}
}

func TestLockout_maxKeys(t *testing.T) {
	l, clock := MustNewLockout(t)
	l.MaxKeys = 100
	for range 6 {
		fail(t, l, "victim")
	}
	for i := range 1000 {
		clock.Advance(time.Millisecond)
		fail(t, l, fmt.Sprintf("login:ip:192.0.2.%d", i))
		if got := l.Len(); got > l.MaxKeys {
			t.Fatalf("after %d keys Len() = %d, want at most %d", i+1, got, l.MaxKeys)
		}
	}

	// The oldest failures went first; the most recent ones are still counted.
	if got := locked(t, l, "victim"); got != 0 {
		t.Errorf("oldest key still locked for %s", got)
	}
	for range 5 {
		fail(t, l, "login:ip:192.0.2.999")
	}
	if got, want := fail(t, l, "login:ip:192.0.2.999"), 2*time.Second; got != want {
		t.Errorf("most recent key: 7th failure locked for %s, want %s", got, want)
	}
}

func TestLockout_sweepsQuietKeys(t *testing.T) {
	l, clock := MustNewLockout(t)
	for i := range 50 {
		fail(t, l, fmt.Sprintf("old%d", i))
	}
	clock.Advance(20 * time.Minute)
	for i := range 10 {
		fail(t, l, fmt.Sprintf("new%d", i))
	}
	if got, want := l.Len(), 60; got != want {
		t.Fatalf("Len() = %d, want %d", got, want)
	}

	// A lookup is enough to drop the keys whose quiet period is over.
	clock.Advance(10 * time.Minute)
	locked(t, l, "anything")
	if got, want := l.Len(), 10; got != want {
		t.Errorf("Len() after the first 50 went quiet = %d, want %d", got, want)
	}
}
