package postgres_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/internal/storetest"
	"github.com/gatepass/gatepass/postgres"
)

// envURL names the variable that holds the URL of a PostgreSQL server the tests
// may create and drop databases on.
const envURL = "GATEPASS_TEST_POSTGRES"

func TestDB(t *testing.T) {
	serverURL(t) // skip once rather than in every case
	storetest.Run(t, func(t *testing.T) gatepass.Store {
		return OpenDB(t, CreateDatabase(t))
	})
}

// TestDB_TwoHandles runs the conformance suite through two handles (two pools)
// on one database, taking turns, as two gatepass instances would: each sees the
// other's writes, and racing rotations never both win.
func TestDB_TwoHandles(t *testing.T) {
	serverURL(t)
	storetest.Run(t, func(t *testing.T) gatepass.Store {
		dsn := CreateDatabase(t)
		return storetest.TakingTurns(OpenDB(t, dsn), OpenDB(t, dsn))
	})
}

func TestOpen_MigratesOnce(t *testing.T) {
	dsn := CreateDatabase(t)
	first := MustOpenDB(t, dsn)
	want := schemaVersion(t, first)
	if want < 1 {
		t.Fatalf("schema version = %d after Open, want at least 1", want)
	}
	createUser(t, first, "alice")

	// A second instance migrates again and finds nothing to do.
	second := MustOpenDB(t, dsn)
	if got := schemaVersion(t, second); got != want {
		t.Errorf("schema version = %d after second Open, want %d", got, want)
	}
	checkMigrations(t, dsn, want)
	createUser(t, second, "bob")
}

func TestOpen_RefusesNewerSchema(t *testing.T) {
	dsn := CreateDatabase(t)
	db := OpenDB(t, dsn)
	latest := schemaVersion(t, db)
	createUser(t, db, "alice")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	execSQL(t, dsn, `INSERT INTO schema_migrations (version) VALUES ($1)`, latest+1)

	db = postgres.NewDB(dsn)
	db.Logger = slog.New(slog.DiscardHandler)
	err := db.Open(t.Context())
	db.Close()

	var verr *postgres.SchemaVersionError
	if !errors.As(err, &verr) {
		t.Fatalf("Open error = %v, want a *SchemaVersionError", err)
	}
	if verr.Version != latest+1 || verr.Latest != latest {
		t.Errorf("versions = %d, %d; want %d, %d", verr.Version, verr.Latest, latest+1, latest)
	}
	for _, v := range []int{latest, latest + 1} {
		if !strings.Contains(err.Error(), strconv.Itoa(v)) {
			t.Errorf("error %q does not name version %d", err, v)
		}
	}

	// Schema and data are left alone.
	checkRefused(t, dsn, latest+1)
	if n := countRows(t, dsn, `SELECT count(*) FROM users WHERE name = 'alice'`); n != 1 {
		t.Errorf("users named alice = %d after refused Open, want 1", n)
	}
}

// TestOpen_Concurrent checks that instances starting at once on a fresh
// database all open it, and that the schema is created once.
func TestOpen_Concurrent(t *testing.T) {
	dsn := CreateDatabase(t)
	errs := make([]error, 8)
	dbs := make([]*postgres.DB, len(errs))
	var wg sync.WaitGroup
	for i := range errs {
		dbs[i] = postgres.NewDB(dsn)
		dbs[i].Logger = slog.New(slog.DiscardHandler)
		wg.Go(func() { errs[i] = dbs[i].Open(t.Context()) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open %d: %v", i, err)
		}
		dbs[i].Close()
	}

	latest := schemaVersion(t, MustOpenDB(t, dsn))
	checkMigrations(t, dsn, latest)
}

// TestMarkRefreshTokenUsed_TwoHandles checks that of two instances that both
// read a token as unused and then mark it used, exactly one succeeds: the other
// waits for the first's row lock, then gets ECONFLICT.
func TestMarkRefreshTokenUsed_TwoHandles(t *testing.T) {
	dsn := CreateDatabase(t)
	dbs := []*postgres.DB{MustOpenDB(t, dsn), MustOpenDB(t, dsn)}
	tokenHash := seedToken(t, dbs[0])

	ctx := t.Context()
	errUsed := errors.New("refresh token seen used")
	errs := make([]error, len(dbs))
	var read, wg sync.WaitGroup
	read.Add(len(dbs))
	for i, db := range dbs {
		wg.Go(func() {
			errs[i] = db.Update(ctx, func(tx gatepass.Tx) error {
				got, err := tx.FindRefreshToken(ctx, tokenHash)
				read.Done()
				if err != nil {
					return err
				}
				read.Wait() // both have seen the token unused
				if !got.UsedAt.IsZero() {
					return errUsed
				}
				return tx.MarkRefreshTokenUsed(ctx, tokenHash, now.Add(time.Duration(i+1)))
			})
		})
	}
	wg.Wait()

	var won, lost int
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case gatepass.ErrorCode(err) == gatepass.ECONFLICT:
			lost++
		default:
			t.Errorf("handle %d: %v", i, err)
		}
	}
	if won != 1 || lost != 1 {
		t.Errorf("%d rotations succeeded and %d conflicted, want 1 and 1", won, lost)
	}
}

// TestLockSession_TwoHandles checks that LockSession on one instance waits while
// a transaction on another holds the session's lock, and then sees its writes.
func TestLockSession_TwoHandles(t *testing.T) {
	dsn := CreateDatabase(t)
	first, second := MustOpenDB(t, dsn), MustOpenDB(t, dsn)
	tokenHash := seedToken(t, first)
	ctx := t.Context()

	// The first instance locks the session and marks the token used, then holds
	// the lock until released.
	held, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	unblock := sync.OnceFunc(func() { close(release) })
	t.Cleanup(unblock) // before the handles close, should the test fail
	go func() {
		done <- first.Update(ctx, func(tx gatepass.Tx) error {
			if _, err := tx.LockSession(ctx, "s1"); err != nil {
				return err
			}
			if err := tx.MarkRefreshTokenUsed(ctx, tokenHash, now); err != nil {
				return err
			}
			close(held)
			<-release
			return nil
		})
	}()
	select {
	case <-held:
	case err := <-done:
		t.Fatalf("first instance: %v", err)
	}

	var usedAt time.Time
	waited := make(chan error, 1)
	go func() {
		waited <- second.Update(ctx, func(tx gatepass.Tx) error {
			if _, err := tx.LockSession(ctx, "s1"); err != nil {
				return err
			}
			tok, err := tx.FindRefreshToken(ctx, tokenHash)
			if err == nil {
				usedAt = tok.UsedAt
			}
			return err
		})
	}()
	waitForLock(t, dsn, waited)

	unblock()
	if err := <-done; err != nil {
		t.Fatalf("first instance: %v", err)
	}
	if err := <-waited; err != nil {
		t.Fatalf("second instance: %v", err)
	}
	if !usedAt.Equal(now) {
		t.Errorf("second instance saw UsedAt = %v, want %v", usedAt, now)
	}
}

// waitForLock returns once a backend on dsn's database waits for a lock, and
// fails the test if done receives first. It asks the server rather than the
// clock, so no machine is too slow for it.
func waitForLock(t *testing.T, dsn string, done <-chan error) {
	t.Helper()
	admin := AdminConn(t)
	for {
		select {
		case err := <-done:
			t.Fatalf("LockSession returned while another instance held the lock: %v", err)
		default:
		}
		var waiting int
		err := admin.QueryRow(t.Context(), `
			SELECT count(*) FROM pg_stat_activity
			WHERE datname = $1 AND wait_event_type = 'Lock'`,
			databaseName(t, dsn)).Scan(&waiting)
		if err != nil {
			t.Fatal(err)
		} else if waiting > 0 {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// TestUpdate_TerminatedBackend checks that transactions whose connection the
// server kills fail with EUNAVAILABLE, never anything worse, and that the pool
// then replaces the dead connections.
func TestUpdate_TerminatedBackend(t *testing.T) {
	dsn := CreateDatabase(t)
	db := postgres.NewDB(dsn)
	db.Logger = slog.New(slog.DiscardHandler)
	db.MaxConns = 4
	if err := db.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	alice := createUser(t, db, "alice")

	// Workers run transactions while the backends serving them are terminated.
	ctx := t.Context()
	stop := make(chan struct{})
	var failed, succeeded atomic.Int64
	var wg sync.WaitGroup
	stopWorkers := sync.OnceFunc(func() { close(stop); wg.Wait() })
	t.Cleanup(stopWorkers) // before db closes, should the test fail
	for range 8 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				err := touchUser(ctx, db, alice.ID)
				switch gatepass.ErrorCode(err) {
				case "":
					succeeded.Add(1)
				case gatepass.EUNAVAILABLE:
					failed.Add(1)
				default:
					t.Errorf("transaction on a terminated backend: %v", err)
				}
			}
		})
	}
	admin := AdminConn(t)
	for range 20 {
		time.Sleep(10 * time.Millisecond)
		_, err := admin.Exec(ctx, `
			SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE datname = $1 AND pid <> pg_backend_pid()`,
			databaseName(t, dsn))
		if err != nil {
			t.Fatal(err)
		}
	}
	stopWorkers()
	t.Logf("%d transactions succeeded, %d were unavailable", succeeded.Load(), failed.Load())
	if failed.Load() == 0 {
		t.Error("no transaction failed; the backends were not terminated mid-run")
	}

	// Each dead connection fails at most one more transaction, then the pool has
	// replaced them all.
	for i := 0; ; i++ {
		err := touchUser(ctx, db, alice.ID)
		if err == nil {
			break
		} else if code := gatepass.ErrorCode(err); code != gatepass.EUNAVAILABLE || i > 4 {
			t.Fatalf("after the terminations: %v", err)
		}
	}
	for range 20 {
		if err := touchUser(ctx, db, alice.ID); err != nil {
			t.Fatalf("pool did not recover: %v", err)
		}
	}
	if err := db.Ping(ctx); err != nil {
		t.Errorf("Ping after recovery: %v", err)
	}
}

// TestOpen_Unreachable checks that a server that cannot be reached gives
// EUNAVAILABLE, and that neither the error nor the log holds the password. It
// needs no server.
func TestOpen_Unreachable(t *testing.T) {
	const password = "pa55-w0rd-never-shown"
	var log bytes.Buffer
	db := postgres.NewDB("postgres://gatepass:" + password +
		"@127.0.0.1:1/gatepass?sslmode=disable&connect_timeout=5")
	db.Logger = slog.New(slog.NewTextHandler(&log, nil))
	err := db.Open(t.Context())
	db.Close()

	if got := gatepass.ErrorCode(err); got != gatepass.EUNAVAILABLE {
		t.Errorf("error code = %q, want %q (error: %v)", got, gatepass.EUNAVAILABLE, err)
	}
	if err != nil && strings.Contains(err.Error(), password) {
		t.Errorf("error holds the password: %v", err)
	}
	if strings.Contains(log.String(), password) {
		t.Errorf("log holds the password:\n%s", log.String())
	}
}

// TestOpen_InvalidDSN checks that a DSN that does not parse is refused without
// being quoted: it may hold a password. It needs no server.
func TestOpen_InvalidDSN(t *testing.T) {
	const password = "pa55-w0rd-never-shown"
	for _, dsn := range []string{
		"postgres://gatepass:" + password + "@127.0.0.1:notaport/gatepass",
		"host=127.0.0.1 password=" + password + " port=x",
	} {
		db := postgres.NewDB(dsn)
		db.Logger = slog.New(slog.DiscardHandler)
		err := db.Open(t.Context())
		db.Close()
		if err == nil {
			t.Errorf("Open accepted an invalid DSN")
		} else if strings.Contains(err.Error(), password) {
			t.Errorf("error holds the password: %v", err)
		}
	}
}

// now is the tests' fixed clock, on a whole microsecond.
var now = time.Date(2026, time.March, 14, 15, 9, 26, 535897000, time.UTC)

// serverURL returns the URL of the test server, or skips the test.
func serverURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv(envURL)
	if u == "" {
		tb.Skip("set " + envURL + " to run the PostgreSQL tests, e.g. " +
			"postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
	}
	return u
}

// AdminConn returns a connection to the test server's database, closed when
// the test ends.
func AdminConn(tb testing.TB) *pgx.Conn {
	tb.Helper()
	conn, err := pgx.Connect(tb.Context(), serverURL(tb))
	if err != nil {
		tb.Fatalf("connect to %s: %v", envURL, err)
	}
	tb.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// CreateDatabase creates an empty database on the test server, drops it when the
// test ends, and returns its DSN.
func CreateDatabase(tb testing.TB) string {
	tb.Helper()
	base := serverURL(tb)
	admin := AdminConn(tb)

	b := make([]byte, 8)
	rand.Read(b)
	name := "gatepass_test_" + hex.EncodeToString(b)
	// template0 is never connected to, unlike template1, which another client
	// may be using, and CREATE DATABASE refuses to copy a database in use.
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := admin.Exec(tb.Context(), `CREATE DATABASE `+ident+` TEMPLATE template0`); err != nil {
		tb.Fatalf("create database: %v", err)
	}
	tb.Cleanup(func() {
		// FORCE terminates connections a test left open.
		_, err := admin.Exec(context.Background(), `DROP DATABASE IF EXISTS `+ident+` WITH (FORCE)`)
		if err != nil {
			tb.Errorf("drop database: %v", err)
		}
	})
	return withDatabase(tb, base, name)
}

// withDatabase returns dsn with its database replaced by name.
func withDatabase(tb testing.TB, dsn, name string) string {
	tb.Helper()
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return dsn + " dbname=" + name // key=value form: the last value wins
	}
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatalf("%s: %v", envURL, err)
	}
	u.Path = "/" + name
	return u.String()
}

// databaseName returns the database dsn names.
func databaseName(tb testing.TB, dsn string) string {
	tb.Helper()
	config, err := pgx.ParseConfig(dsn)
	if err != nil {
		tb.Fatal(err)
	}
	return config.Database
}

// MustOpenDB opens a DB on dsn and closes it when the test ends.
func MustOpenDB(tb testing.TB, dsn string) *postgres.DB {
	tb.Helper()
	db := OpenDB(tb, dsn)
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	return db
}

// checkRefused fails the test unless Open on dsn fails with a
// *SchemaVersionError for version.
func checkRefused(tb testing.TB, dsn string, version int) {
	tb.Helper()
	db := postgres.NewDB(dsn)
	db.Logger = slog.New(slog.DiscardHandler)
	err := db.Open(tb.Context())
	db.Close()
	var verr *postgres.SchemaVersionError
	if !errors.As(err, &verr) || verr.Version != version {
		tb.Fatalf("Open error = %v, want a *SchemaVersionError for version %d", err, version)
	}
}

// OpenDB opens a DB on dsn, without logging; the caller closes it.
func OpenDB(tb testing.TB, dsn string) *postgres.DB {
	tb.Helper()
	db := postgres.NewDB(dsn)
	db.Logger = slog.New(slog.DiscardHandler)
	if err := db.Open(tb.Context()); err != nil {
		tb.Fatal(err)
	}
	return db
}

// execSQL runs one statement on the database at dsn, behind gatepass's back.
func execSQL(tb testing.TB, dsn, sql string, args ...any) {
	tb.Helper()
	conn, err := pgx.Connect(tb.Context(), dsn)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(tb.Context(), sql, args...); err != nil {
		tb.Fatal(err)
	}
}

// countRows runs a count query on the database at dsn.
func countRows(tb testing.TB, dsn, sql string) int {
	tb.Helper()
	conn, err := pgx.Connect(tb.Context(), dsn)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(tb.Context(), sql).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

// checkMigrations reports an error unless the database at dsn recorded each
// migration up to latest exactly once and holds the gatepass tables once.
func checkMigrations(t *testing.T, dsn string, latest int) {
	t.Helper()
	got := countRows(t, dsn, `
		SELECT count(*) FROM schema_migrations
		WHERE version BETWEEN 1 AND `+strconv.Itoa(latest))
	if all := countRows(t, dsn, `SELECT count(*) FROM schema_migrations`); got != latest ||
		all != latest {
		t.Errorf("schema_migrations holds %d rows, %d of them versions 1 to %d; want %d",
			all, got, latest, latest)
	}
	tables := countRows(t, dsn, `
		SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()
		AND tablename IN ('users', 'sessions', 'refresh_tokens', 'signing_keys', 'secrets')`)
	if tables != 5 {
		t.Errorf("found %d of the 5 gatepass tables", tables)
	}
}

func schemaVersion(tb testing.TB, db *postgres.DB) int {
	tb.Helper()
	v, err := db.SchemaVersion(tb.Context())
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

func newUser(name string) *gatepass.User {
	return &gatepass.User{
		Name:         name,
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
		CreatedAt:    now,
	}
}

// newSession returns a session of the user that ends an hour after now.
func newSession(id string, userID int64) *gatepass.Session {
	return &gatepass.Session{ID: id, UserID: userID, ClientID: "gatepass",
		CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(time.Hour)}
}

func createUser(tb testing.TB, db *postgres.DB, name string) *gatepass.User {
	tb.Helper()
	u := newUser(name)
	err := db.Update(tb.Context(), func(tx gatepass.Tx) error {
		return tx.CreateUser(tb.Context(), u)
	})
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

// seedToken stores a user with a session and an unused refresh token, and
// returns the token's hash.
func seedToken(tb testing.TB, db *postgres.DB) []byte {
	tb.Helper()
	ctx := tb.Context()
	h := sha256.Sum256([]byte("t1"))
	err := db.Update(ctx, func(tx gatepass.Tx) error {
		u := newUser("alice")
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		sess := &gatepass.Session{ID: "s1", UserID: u.ID, CreatedAt: now,
			ExpiresAt: now.Add(time.Hour)}
		if err := tx.CreateSession(ctx, sess); err != nil {
			return err
		}
		return tx.CreateRefreshToken(ctx, &gatepass.RefreshToken{Hash: h[:],
			SessionID: "s1", CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
	})
	if err != nil {
		tb.Fatal(err)
	}
	return h[:]
}

// touchUser reads and updates a user in one Update and reads it in one View.
func touchUser(ctx context.Context, db *postgres.DB, id int64) error {
	err := db.Update(ctx, func(tx gatepass.Tx) error {
		if _, err := tx.FindUserByID(ctx, id); err != nil {
			return err
		}
		return tx.UpdateUser(ctx, id, gatepass.UserUpdate{UpdatedAt: time.Now()})
	})
	if err != nil {
		return err
	}
	return db.View(ctx, func(tx gatepass.Tx) error {
		_, err := tx.FindUsers(ctx, gatepass.UserFilter{})
		return err
	})
}
