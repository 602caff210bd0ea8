package httpapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/ratelimit"
	"github.com/google/go-cmp/cmp"
)

// MustStartLimitedEnv starts a server that allows 5 attempts a minute per key.
func MustStartLimitedEnv(tb testing.TB) *testEnv {
	tb.Helper()
	e := MustStartEnv(tb)
	l := ratelimit.NewLimiter(5, time.Minute)
	l.Now = e.clock.Now
	e.svc.Limiter = l
	return e
}

// TestTokenRateLimited checks the 429 answer to the 6th sign-in in a minute, and
// that it is the same whether or not the account exists.
func TestTokenRateLimited(t *testing.T) {
	tests := []struct {
		name     string
		username string
	}{
		{name: "wrong-password", username: testUser},
		{name: "unknown-user", username: "mallory"},
	}
	var bodies []string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := MustStartLimitedEnv(t)
			e.MustCreateUser(t, testUser, "")
			for i := range 5 {
				if res := e.Login(t, tt.username, "wrong password"); res.status !=
					http.StatusBadRequest {
					t.Fatalf("attempt %d: %d %s", i+1, res.status, res.body)
				}
			}

			res := e.Login(t, tt.username, "wrong password")
			if res.status != http.StatusTooManyRequests {
				t.Fatalf("6th attempt: %d %s, want 429", res.status, res.body)
			}
			if got, want := res.header.Get("Retry-After"), "12"; got != want {
				t.Errorf("Retry-After = %q, want %q", got, want)
			}
			if diff := cmp.Diff(res.JSON(t), map[string]any{
				"error":             "too_many_requests",
				"error_description": "too many attempts; try again later",
			}); diff != "" {
				t.Errorf("body (-got +want):\n%s", diff)
			}
			bodies = append(bodies, string(res.body))

			// Once the wait is over, the right password works.
			e.clock.Advance(12 * time.Second)
			if tt.username == testUser {
				MustTokens(t, e.Login(t, testUser, testPassword))
			}
		})
	}
	if len(bodies) == 2 && bodies[0] != bodies[1] {
		t.Errorf("known and unknown account answered differently:\n%s\n%s",
			bodies[0], bodies[1])
	}
}

// limiterFunc is a gatepass.Limiter made of a function.
type limiterFunc func(ctx context.Context, key string) (bool, time.Duration, error)

func (f limiterFunc) Allow(ctx context.Context, key string) (bool, time.Duration, error) {
	return f(ctx, key)
}

var _ gatepass.Limiter = limiterFunc(nil)

// TestTokenRetryAfterRounding checks that Retry-After rounds the limiter's wait up
// to whole seconds and never says 0.
func TestTokenRetryAfterRounding(t *testing.T) {
	tests := []struct {
		name string
		wait time.Duration
		want string
	}{
		{name: "sub-second", wait: 100 * time.Millisecond, want: "1"},
		{name: "fraction", wait: 1500 * time.Millisecond, want: "2"},
		{name: "whole", wait: 12 * time.Second, want: "12"},
		{name: "none", wait: 0, want: "60"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := MustStartEnv(t)
			e.svc.Limiter = limiterFunc(func(context.Context, string) (bool,
				time.Duration, error) {
				return false, tt.wait, nil
			})
			res := e.Login(t, testUser, testPassword)
			if res.status != http.StatusTooManyRequests {
				t.Fatalf("status = %d, want 429", res.status)
			}
			if got := res.header.Get("Retry-After"); got != tt.want {
				t.Errorf("Retry-After = %q, want %q", got, tt.want)
			}
		})
	}
}
