package auth_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/gatepass/gatepass/auth"
)

// TestRun_picksUpRotationAndPrunes runs the background loop of a "server" while a
// second service on the same database, as the command line would, rotates the key.
func TestRun_picksUpRotationAndPrunes(t *testing.T) {
	server := MustOpenEnv(t, func(c *auth.Config) { c.KeyReloadInterval = time.Second })
	server.MustCreateUser(t, "alice")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	stale := server.MustLogin(t, "alice")
	server.Clock.Advance(31 * 24 * time.Hour)

	admin := MustReopenEnv(t, server.Path, server.Clock, nil)
	k, err := admin.Service.RotateKeys(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(jwksKids(t, server.Service), k.ID) {
		t.Fatal("the server knew the new key before reloading")
	}

	done := make(chan struct{})
	go func() {
		server.Service.Run(ctx, 5*time.Millisecond)
		close(done)
	}()

	waitUntil(t, func() bool { return slices.Contains(jwksKids(t, server.Service), k.ID) })
	fresh := server.MustLogin(t, "alice")
	if _, err := admin.Service.VerifyAccessToken(fresh.AccessToken); err != nil {
		t.Errorf("token signed after the reload does not verify with the new key: %v", err)
	}

	waitUntil(t, func() bool {
		for _, s := range mustFindSessions(t, server) {
			if s.ID == stale.SessionID {
				return false
			}
		}
		return true
	})

	cancel()
	<-done
}

// waitUntil polls cond; there is no time limit of its own, the test's deadline
// is the limit.
func waitUntil(tb testing.TB, cond func() bool) {
	tb.Helper()
	for !cond() {
		time.Sleep(5 * time.Millisecond)
	}
}
