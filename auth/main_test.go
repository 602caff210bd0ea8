package auth_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/auth"
	"github.com/gatepass/gatepass/password"
	"github.com/gatepass/gatepass/sqlite"
)

// Clock is a fake clock tests move by hand.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock starts a clock at a fixed instant.
func NewClock() *Clock {
	return &Clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Env is a service on a real SQLite file with a fake clock.
type Env struct {
	Service *auth.Service
	Store   gatepass.Store
	Clock   *Clock
	Path    string
}

// CheapHasher hashes with tiny argon2id parameters so tests stay fast.
func CheapHasher() *password.Hasher {
	h := password.NewHasher(0)
	h.Time, h.Memory = 1, 64
	return h
}

// MustOpenEnv opens a service; change lets a test adjust the configuration.
func MustOpenEnv(tb testing.TB, change func(*auth.Config)) *Env {
	tb.Helper()
	return MustReopenEnv(tb, filepath.Join(tb.TempDir(), "gatepass.db"), NewClock(), change)
}

// MustReopenEnv opens a service on an existing database path.
func MustReopenEnv(tb testing.TB, path string, clock *Clock, change func(*auth.Config)) *Env {
	tb.Helper()
	return mustOpenEnvHasher(tb, path, clock, CheapHasher(), change)
}

// mustOpenEnvHasher opens a service that hashes passwords with hasher.
func mustOpenEnvHasher(tb testing.TB, path string, clock *Clock, hasher *password.Hasher,
	change func(*auth.Config)) *Env {
	tb.Helper()
	ctx := context.Background()

	db := sqlite.NewDB(path)
	db.Logger = slog.New(slog.DiscardHandler)
	if err := db.Open(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })

	cfg := auth.DefaultConfig()
	if change != nil {
		change(&cfg)
	}
	svc := auth.NewService(db, hasher, cfg)
	svc.Now = clock.Now
	svc.Logger = slog.New(slog.DiscardHandler)
	if err := svc.Open(ctx); err != nil {
		tb.Fatal(err)
	}
	return &Env{Service: svc, Store: db, Clock: clock, Path: path}
}

// MustCreateUser creates a user with a known password.
func (e *Env) MustCreateUser(tb testing.TB, name string) *gatepass.User {
	tb.Helper()
	u, err := e.Service.CreateUser(context.Background(),
		auth.NewUser{Name: name, Password: name + "-password"})
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

// MustLogin signs a user created by MustCreateUser in.
func (e *Env) MustLogin(tb testing.TB, name string) *auth.TokenPair {
	tb.Helper()
	p, err := e.Service.Login(context.Background(),
		auth.LoginRequest{Username: name, Password: name + "-password"})
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// Refresh trades a refresh token.
func (e *Env) Refresh(tok string) (*auth.TokenPair, error) {
	return e.Service.Refresh(context.Background(), auth.RefreshRequest{RefreshToken: tok})
}
