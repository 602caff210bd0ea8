package auth_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/gatepass/gatepass/auth"
	"github.com/gatepass/gatepass/password"
)

// BenchmarkSignIn puts a whole sign-in beside the password check alone, with
// the default argon2id parameters and hashing slots, on a SQLite file. Each
// run measures both, one after the other; -count would run all the rounds of
// one before the other, so repeat the command to interleave them. hash ns/op
// divided by sign-in ns/op is the sign-in rate as a share of the hash rate.
//
//	for i in 1 2 3 4 5 6; do go test -run '^$' -bench SignIn ./auth; done
func BenchmarkSignIn(b *testing.B) {
	ctx := context.Background()
	hasher := password.NewHasher(0)
	env := mustOpenEnvHasher(b, filepath.Join(b.TempDir(), "gatepass.db"), NewClock(),
		hasher, nil)
	alice := env.MustCreateUser(b, "alice")

	b.Run("hash", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				ok, _, err := hasher.Verify(ctx, "alice-password", alice.PasswordHash)
				if err != nil || !ok {
					// Fatal must not be called from RunParallel's goroutines.
					b.Errorf("Verify = %v, %v; want a match", ok, err)
					return
				}
			}
		})
	})
	b.Run("sign-in", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_, err := env.Service.Login(ctx,
					auth.LoginRequest{Username: "alice", Password: "alice-password"})
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
