package auth_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/auth"
	"github.com/gatepass/gatepass/postgres"
	"github.com/gatepass/gatepass/sqlite"
)

// engine opens handles on one new database: a SQLite file, or a PostgreSQL
// database created for the test.
type engine struct {
	name string
	// create makes the database and returns a function that opens a handle on
	// it, closed when the test ends.
	create func(tb testing.TB) func(tb testing.TB) gatepass.Store
}

// engines are the databases instances can share. PostgreSQL is skipped unless
// GATEPASS_TEST_POSTGRES names a server.
var engines = []engine{
	{name: "sqlite", create: func(tb testing.TB) func(tb testing.TB) gatepass.Store {
		path := filepath.Join(tb.TempDir(), "gatepass.db")
		return func(tb testing.TB) gatepass.Store {
			db := sqlite.NewDB(path)
			db.Logger = slog.New(slog.DiscardHandler)
			return mustOpenStore(tb, db)
		}
	}},
	{name: "postgres", create: func(tb testing.TB) func(tb testing.TB) gatepass.Store {
		dsn := mustCreatePostgres(tb)
		return func(tb testing.TB) gatepass.Store {
			db := postgres.NewDB(dsn)
			db.Logger = slog.New(slog.DiscardHandler)
			return mustOpenStore(tb, db)
		}
	}},
}

// opener is what both engines' DB types have.
type opener interface {
	gatepass.Store
	Open(ctx context.Context) error
}

// mustOpenStore opens db and closes it when the test ends.
func mustOpenStore(tb testing.TB, db opener) gatepass.Store {
	tb.Helper()
	if err := db.Open(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// mustCreatePostgres creates an empty database on the server GATEPASS_TEST_POSTGRES
// names, or skips the test, and drops it when the test ends.
func mustCreatePostgres(tb testing.TB) string {
	tb.Helper()
	server := os.Getenv("GATEPASS_TEST_POSTGRES")
	if server == "" {
		tb.Skip("set GATEPASS_TEST_POSTGRES to run the PostgreSQL tests, e.g. " +
			"postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
	}
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		tb.Fatalf("connect to GATEPASS_TEST_POSTGRES: %v", err)
	}
	tb.Cleanup(func() { admin.Close(context.Background()) })

	b := make([]byte, 8)
	rand.Read(b)
	name := pgx.Identifier{"gatepass_auth_" + hex.EncodeToString(b)}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name.Sanitize()); err != nil {
		tb.Fatalf("create database: %v", err)
	}
	tb.Cleanup(func() {
		_, err := admin.Exec(context.Background(),
			"DROP DATABASE IF EXISTS "+name.Sanitize()+" WITH (FORCE)")
		if err != nil {
			tb.Errorf("drop database: %v", err)
		}
	})

	u, err := url.Parse(server)
	if err != nil {
		tb.Fatalf("GATEPASS_TEST_POSTGRES: %v", err)
	}
	u.Path = "/" + name[0]
	return u.String()
}

// mustOpenInstance opens a service with the revocation check on, as one
// instance of several sharing store.
func mustOpenInstance(tb testing.TB, store gatepass.Store, clock *Clock) *auth.Service {
	tb.Helper()
	cfg := auth.DefaultConfig()
	cfg.RevocationCheck = true
	svc := auth.NewService(store, CheapHasher(), cfg)
	svc.Now = clock.Now
	svc.Logger = slog.New(slog.DiscardHandler)
	if err := svc.Open(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return svc
}

// pair is two instances on one database and one clock.
type pair struct {
	a, b   *auth.Service
	storeA gatepass.Store
	clock  *Clock
}

// mustOpenPair opens two instances on a new database of e, with a user alice.
func mustOpenPair(tb testing.TB, e engine) *pair {
	tb.Helper()
	open := e.create(tb)
	p := &pair{storeA: open(tb), clock: NewClock()}
	p.a = mustOpenInstance(tb, p.storeA, p.clock)
	p.b = mustOpenInstance(tb, open(tb), p.clock)

	_, err := p.a.CreateUser(context.Background(),
		auth.NewUser{Name: "alice", Password: "alice-password"})
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// login signs alice in on svc.
func (p *pair) login(tb testing.TB, svc *auth.Service) *auth.TokenPair {
	tb.Helper()
	tp, err := svc.Login(context.Background(),
		auth.LoginRequest{Username: "alice", Password: "alice-password"})
	if err != nil {
		tb.Fatal(err)
	}
	return tp
}

// TestRevocationCheck_twoInstances revokes sessions on instance A and checks that
// instance B, on the same database, refuses their access tokens once it has
// polled, and not before: the poll is what carries a revocation across.
func TestRevocationCheck_twoInstances(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			p := mustOpenPair(t, e)
			ctx := t.Context()
			signedOut := p.login(t, p.b)
			other := p.login(t, p.a)

			if err := p.a.Revoke(ctx, signedOut.RefreshToken, ""); err != nil {
				t.Fatal(err)
			}
			checkRefused(t, p.a, signedOut.AccessToken)
			checkAccepted(t, p.b, signedOut.AccessToken, signedOut.SessionID)

			p.clock.Advance(500 * time.Millisecond)
			mustPoll(t, p.b)
			checkRefused(t, p.b, signedOut.AccessToken)
			checkAccepted(t, p.b, other.AccessToken, other.SessionID)

			// A password change on A ends the user's other sessions everywhere.
			if err := p.a.SetPassword(ctx, "alice", "a-new-long-password"); err != nil {
				t.Fatal(err)
			}
			p.clock.Advance(500 * time.Millisecond)
			mustPoll(t, p.b)
			checkRefused(t, p.b, other.AccessToken)
			if got := p.b.RevokedSessions(); got != 2 {
				t.Errorf("B's RevokedSessions = %d, want 2", got)
			}
		})
	}
}

// TestRevocationCheck_lateCommit holds a revocation's transaction open on A
// while B polls, as a slow commit would, then commits it. A revocation that
// commits within the margin after its revoked_at is found by B's next poll; one
// that commits later still is found by the periodic full reload.
func TestRevocationCheck_lateCommit(t *testing.T) {
	tests := []struct {
		name string
		// delay is how long after taking its revoked_at the revocation commits.
		delay time.Duration
		// refusedAtNextPoll says whether B's next poll finds it.
		refusedAtNextPoll bool
	}{
		{name: "within-margin", delay: 5 * time.Second, refusedAtNextPoll: true},
		{name: "beyond-margin", delay: 50 * time.Second, refusedAtNextPoll: false},
	}
	for _, e := range engines {
		for _, tt := range tests {
			t.Run(e.name+"/"+tt.name, func(t *testing.T) {
				p := mustOpenPair(t, e)
				victim := p.login(t, p.a)

				// B polls while the revocation is made but not committed.
				commit := holdRevocation(t, p, victim.SessionID)
				p.clock.Advance(tt.delay)
				mustPoll(t, p.b)
				checkAccepted(t, p.b, victim.AccessToken, victim.SessionID)
				commit()

				p.clock.Advance(time.Second)
				mustPoll(t, p.b)
				if tt.refusedAtNextPoll {
					checkRefused(t, p.b, victim.AccessToken)
				} else {
					checkAccepted(t, p.b, victim.AccessToken, victim.SessionID)
				}

				p.clock.Advance(time.Minute)
				mustPoll(t, p.b)
				checkRefused(t, p.b, victim.AccessToken)
			})
		}
	}
}

// holdRevocation revokes session sid on p's instance A, dated now, in a
// transaction it keeps open until the returned function is called; that function
// commits it.
func holdRevocation(tb testing.TB, p *pair, sid string) (commit func()) {
	tb.Helper()
	ctx := context.Background()
	revoked, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- p.storeA.Update(ctx, func(tx gatepass.Tx) error {
			at, reason := p.clock.Now(), gatepass.RevokeAdmin
			err := tx.UpdateSession(ctx, sid,
				gatepass.SessionUpdate{RevokedAt: &at, RevokeReason: &reason})
			close(revoked)
			if err != nil {
				return err
			}
			<-release
			return nil
		})
	}()

	<-revoked
	return func() {
		tb.Helper()
		close(release)
		if err := <-done; err != nil {
			tb.Fatalf("revocation transaction: %v", err)
		}
	}
}

// TestRevocationCheck_run checks that Run polls on its own: a session revoked on
// another instance is refused by the running one without anyone calling
// PollRevocations, and Run returns once its context ends.
func TestRevocationCheck_run(t *testing.T) {
	server := MustOpenEnv(t, func(c *auth.Config) {
		c.RevocationCheck, c.RevocationPollInterval = true, 10*time.Millisecond
	})
	server.MustCreateUser(t, "alice")
	pair := server.MustLogin(t, "alice")
	other := MustReopenEnv(t, server.Path, server.Clock, nil)

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		server.Service.Run(ctx, time.Hour)
		close(done)
	}()

	err := other.Service.RevokeSession(ctx, pair.SessionID, gatepass.RevokeAdmin)
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, func() bool {
		_, err := server.Service.VerifyAccessToken(pair.AccessToken)
		return err != nil
	})
	checkRefused(t, server.Service, pair.AccessToken)

	cancel()
	<-done
}
