package auth_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/auth"
	"github.com/gatepass/gatepass/password"
	"github.com/gatepass/gatepass/sqlite"
)

// TestSignInFailureTiming checks that the three ways a sign-in fails, an
// unknown user, a wrong password and a disabled account, cannot be told apart
// by the time they take, with the real argon2id hasher and no rate limit. Each
// must cost one password hash: the median time of each is at least half that
// of a bare hash, and the medians are within a factor of two of each other.
//
// The attempts are interleaved and compared by medians with a loose factor,
// so a busy machine slows all three alike and a pause hits one attempt, not a
// median. A path that skipped the hash would be several times faster.
func TestSignInFailureTiming(t *testing.T) {
	if testing.Short() {
		t.Skip("measures password hashing")
	}
	const (
		attempts = 30
		factor   = 2.0
	)
	ctx := context.Background()
	svc, hasher := mustOpenTimedService(t)
	for _, name := range []string{"wrong", "disabled"} {
		_, err := svc.CreateUser(ctx, auth.NewUser{Name: name, Password: "right-password"})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := svc.SetDisabled(ctx, "disabled", true); err != nil {
		t.Fatal(err)
	}
	stored, err := hasher.Hash(ctx, "right-password")
	if err != nil {
		t.Fatal(err)
	}

	kinds := []struct {
		name string
		try  func() error
	}{
		{name: "unknown-user", try: attemptLogin(svc, "nobody", "right-password")},
		{name: "wrong-password", try: attemptLogin(svc, "wrong", "wrong-password")},
		{name: "disabled-account", try: attemptLogin(svc, "disabled", "right-password")},
		{name: "bare-hash", try: func() error {
			_, _, err := hasher.Verify(ctx, "wrong-password", stored)
			return err
		}},
	}

	// One round unmeasured, to warm caches; then rounds in a rotating order.
	times := make([][]time.Duration, len(kinds))
	for round := -1; round < attempts; round++ {
		for i := range kinds {
			k := (i + round + 1) % len(kinds)
			start := time.Now()
			err := kinds[k].try()
			d := time.Since(start)
			if kinds[k].name != "bare-hash" && !errors.Is(err, gatepass.ErrInvalidCredentials) {
				t.Fatalf("%s: error %v, want ErrInvalidCredentials", kinds[k].name, err)
			} else if kinds[k].name == "bare-hash" && err != nil {
				t.Fatal(err)
			}
			if round >= 0 {
				times[k] = append(times[k], d)
			}
		}
	}

	medians := map[string]time.Duration{}
	for i, k := range kinds {
		slices.Sort(times[i])
		medians[k.name] = times[i][len(times[i])/2]
	}
	t.Logf("medians: %v", medians)
	hash := medians["bare-hash"]
	for _, a := range kinds[:3] {
		if medians[a.name] < hash/2 {
			t.Errorf("%s takes %v, under half a password hash (%v): it skips the hash",
				a.name, medians[a.name], hash)
		}
		for _, b := range kinds[:3] {
			if float64(medians[a.name]) > factor*float64(medians[b.name]) {
				t.Errorf("%s takes %v, over %.0f times %s (%v)", a.name, medians[a.name],
					factor, b.name, medians[b.name])
			}
		}
	}
}

// attemptLogin returns a sign-in attempt by name with pw.
func attemptLogin(svc *auth.Service, name, pw string) func() error {
	return func() error {
		_, err := svc.Login(context.Background(), auth.LoginRequest{Username: name,
			Password: pw, Client: auth.Client{IPAddress: "192.0.2.1"}})
		return err
	}
}

// mustOpenTimedService opens a service on a real SQLite file with the argon2id
// hasher at a quarter of the OWASP memory cost: dear enough that a hash is most
// of a sign-in, cheap enough for a test. Rate limits and lockouts are off.
func mustOpenTimedService(tb testing.TB) (*auth.Service, *password.Hasher) {
	tb.Helper()
	ctx := context.Background()
	db := sqlite.NewDB(filepath.Join(tb.TempDir(), "gatepass.db"))
	db.Logger = slog.New(slog.DiscardHandler)
	if err := db.Open(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })

	hasher := password.NewHasher(0)
	hasher.Memory /= 4
	svc := auth.NewService(db, hasher, auth.DefaultConfig())
	svc.Logger = slog.New(slog.DiscardHandler)
	if err := svc.Open(ctx); err != nil {
		tb.Fatal(err)
	}
	return svc, hasher
}
