package auth_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/auth"
	"github.com/gatepass/gatepass/ratelimit"
)

// limiterFunc is a gatepass.Limiter made of a function.
type limiterFunc func(ctx context.Context, key string) (bool, time.Duration, error)

func (f limiterFunc) Allow(ctx context.Context, key string) (bool, time.Duration, error) {
	return f(ctx, key)
}

var _ gatepass.Limiter = limiterFunc(nil)

// MustOpenLimitedEnv opens a service limited to 5 attempts a minute per key, on the
// env's fake clock, logging into the returned buffer.
func MustOpenLimitedEnv(tb testing.TB) (*Env, *bytes.Buffer) {
	tb.Helper()
	env := MustOpenEnv(tb, nil)
	l := ratelimit.NewLimiter(5, time.Minute)
	l.Now = env.Clock.Now
	env.Service.Limiter = l
	env.Service.RefreshLimiter = l

	var logs bytes.Buffer
	env.Service.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	return env, &logs
}

// login signs name in from ip with password.
func login(env *Env, name, password, ip string) error {
	_, err := env.Service.Login(context.Background(), auth.LoginRequest{Username: name,
		Password: password, Client: auth.Client{IPAddress: ip}})
	return err
}

// tooMany is the error of a limited attempt made 5 times a minute.
var tooMany = &gatepass.Error{Code: gatepass.ETOOMANY,
	Message: "too many attempts; try again later", RetryAfter: 12 * time.Second}

func TestLogin_rateLimited(t *testing.T) {
	tests := []struct {
		name     string
		username string
		ip       string
	}{
		{name: "existing-account", username: "alice", ip: "192.0.2.1"},
		{name: "unknown-account", username: "mallory", ip: "192.0.2.2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, logs := MustOpenLimitedEnv(t)
			env.MustCreateUser(t, "alice")
			for i := range 5 {
				err := login(env, tt.username, "wrong password", tt.ip)
				if !errors.Is(err, gatepass.ErrInvalidCredentials) {
					t.Fatalf("attempt %d: err = %v, want invalid credentials", i+1, err)
				}
			}

			// The 6th is refused the same way whether the account exists or not.
			err := login(env, tt.username, "wrong password", tt.ip)
			if diff := cmpDiff(err, error(tooMany)); diff != "" {
				t.Errorf("6th attempt (-got +want):\n%s", diff)
			}
			if got := logs.String(); !strings.Contains(got, "level=WARN msg=\"rate limited\"") ||
				!strings.Contains(got, "client_ip="+tt.ip) {
				t.Errorf("no Warn with the client address in logs:\n%s", got)
			} else if strings.Contains(got, "wrong password") {
				t.Errorf("logs hold the password:\n%s", got)
			}
		})
	}
}

func TestLogin_rateLimitedPerAccount(t *testing.T) {
	env, _ := MustOpenLimitedEnv(t)
	env.MustCreateUser(t, "alice")
	env.MustCreateUser(t, "bob")

	// Attempts from many addresses still count against one account, whatever the
	// case of the name.
	for i, name := range []string{"alice", "Alice", "ALICE", "alice", "aLice"} {
		login(env, name, "wrong password", fmt.Sprintf("192.0.2.%d", i+1))
	}
	err := login(env, "alice", "alice-password", "192.0.2.100")
	if got, want := gatepass.ErrorCode(err), gatepass.ETOOMANY; got != want {
		t.Errorf("alice from a new address: code = %q, want %q", got, want)
	}

	// Another account from another address is not held back.
	if err := login(env, "bob", "bob-password", "198.51.100.7"); err != nil {
		t.Errorf("bob from another address: %v", err)
	}

	// After a token comes back, alice may try again.
	env.Clock.Advance(12 * time.Second)
	if err := login(env, "alice", "alice-password", "192.0.2.101"); err != nil {
		t.Errorf("alice after waiting: %v", err)
	}
}

func TestLogin_rateLimitedPerAddress(t *testing.T) {
	env, _ := MustOpenLimitedEnv(t)
	env.MustCreateUser(t, "alice")
	for _, name := range []string{"u1", "u2", "u3", "u4", "u5"} {
		login(env, name, "guess", "203.0.113.9")
	}

	err := login(env, "alice", "alice-password", "203.0.113.9")
	if diff := cmpDiff(err, error(tooMany)); diff != "" {
		t.Errorf("6th attempt from one address (-got +want):\n%s", diff)
	}
	if err := login(env, "alice", "alice-password", "203.0.113.10"); err != nil {
		t.Errorf("alice from another address: %v", err)
	}
}

func TestRefresh_rateLimited(t *testing.T) {
	env, _ := MustOpenLimitedEnv(t)
	for range 5 {
		env.Service.Refresh(context.Background(), auth.RefreshRequest{
			RefreshToken: "not-a-token", Client: auth.Client{IPAddress: "192.0.2.1"}})
	}

	_, err := env.Service.Refresh(context.Background(), auth.RefreshRequest{
		RefreshToken: "not-a-token", Client: auth.Client{IPAddress: "192.0.2.1"}})
	if diff := cmpDiff(err, error(tooMany)); diff != "" {
		t.Errorf("6th refresh (-got +want):\n%s", diff)
	}
}

// TestLogin_limiterFails checks that a failing limiter lets sign-ins through and
// logs an Error.
func TestLogin_limiterFails(t *testing.T) {
	env, logs := MustOpenLimitedEnv(t)
	env.MustCreateUser(t, "alice")
	env.Service.Limiter = limiterFunc(func(context.Context, string) (bool, time.Duration,
		error) {
		return false, 0, gatepass.Errorf(gatepass.EUNAVAILABLE, "rate limiter unavailable")
	})

	if err := login(env, "alice", "alice-password", "192.0.2.1"); err != nil {
		t.Errorf("login: %v", err)
	}
	if got := logs.String(); !strings.Contains(got, "level=ERROR msg=\"rate limiter failed") {
		t.Errorf("no Error logged:\n%s", got)
	}
}

// TestLogin_rateLimitedIPv6Block checks that addresses in one IPv6 /64 share a
// count, while another /64 does not.
func TestLogin_rateLimitedIPv6Block(t *testing.T) {
	env, _ := MustOpenLimitedEnv(t)
	env.MustCreateUser(t, "alice")
	for i := range 5 {
		login(env, fmt.Sprintf("u%d", i), "guess", fmt.Sprintf("2001:db8:1:2::%x", i+1))
	}

	err := login(env, "alice", "alice-password", "2001:db8:1:2:ffff::9")
	if got, want := gatepass.ErrorCode(err), gatepass.ETOOMANY; got != want {
		t.Errorf("same /64: code = %q, want %q", got, want)
	}
	if err := login(env, "alice", "alice-password", "2001:db8:1:3::1"); err != nil {
		t.Errorf("another /64: %v", err)
	}
}
