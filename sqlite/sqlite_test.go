package sqlite_test

import (
	"bytes"
	"database/sql"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/internal/storetest"
	"github.com/gatepass/gatepass/sqlite"
)

func TestDB(t *testing.T) {
	storetest.Run(t, func(t *testing.T) gatepass.Store {
		return OpenDB(t, filepath.Join(t.TempDir(), "gatepass.db"))
	})
}

// TestDB_TwoHandles runs the conformance suite through two handles on one file,
// taking turns, as the server and a CLI command in two processes would: each sees
// the other's writes, and racing rotations neither both win nor fail for the lock.
func TestDB_TwoHandles(t *testing.T) {
	storetest.Run(t, func(t *testing.T) gatepass.Store {
		path := filepath.Join(t.TempDir(), "gatepass.db")
		return storetest.TakingTurns(OpenDB(t, path), OpenDB(t, path))
	})
}

func TestOpen_CreatesPrivateFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatepass.db")
	db := MustOpenDB(t, path)
	createUser(t, db, "alice") // so that the WAL has content

	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Errorf("%s mode = %v, want %v", filepath.Base(name), got, os.FileMode(0o600))
		}
	}
}

func TestOpen_WarnsAboutReadableFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatepass.db")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	} else if err := os.Chmod(path, 0o644); err != nil { // whatever the umask
		t.Fatal(err)
	}

	var log bytes.Buffer
	db := sqlite.NewDB(path)
	db.Logger = slog.New(slog.NewTextHandler(&log, nil))
	if err := db.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	if !strings.Contains(log.String(), "level=WARN") {
		t.Errorf("no warning logged; log:\n%s", log.String())
	}
	// The operator's choice is left alone.
	if fi, err := os.Stat(path); err != nil {
		t.Fatal(err)
	} else if got := fi.Mode().Perm(); got != 0o644 {
		t.Errorf("mode = %v, want it unchanged", got)
	}
}

func TestOpen_PathWithURICharacters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gate?pass#1%20.db")
	MustOpenDB(t, path)
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database not at its path: %v", err)
	}
}

func TestOpen_Reopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatepass.db")
	db := OpenDB(t, path)
	createUser(t, db, "alice")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = MustOpenDB(t, path)
	err := db.View(t.Context(), func(tx gatepass.Tx) error {
		_, err := tx.FindUserByName(t.Context(), "alice")
		return err
	})
	if err != nil {
		t.Errorf("user lost on reopen: %v", err)
	}
}

func TestOpen_MigratesOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatepass.db")
	first := MustOpenDB(t, path)
	want := schemaVersion(t, first)
	if want < 1 {
		t.Fatalf("schema version = %d after Open, want at least 1", want)
	}
	createUser(t, first, "alice")

	// A second handle on the same file, as a CLI command next to the server,
	// migrates again and finds nothing to do.
	second := MustOpenDB(t, path)
	if got := schemaVersion(t, second); got != want {
		t.Errorf("schema version = %d after second Open, want %d", got, want)
	}
	createUser(t, second, "bob")
}

func TestOpen_RefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatepass.db")
	db := OpenDB(t, path)
	latest := schemaVersion(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	setUserVersion(t, path, latest+1)

	db = sqlite.NewDB(path)
	db.Logger = slog.New(slog.DiscardHandler)
	err := db.Open(t.Context())
	db.Close()

	var verr *sqlite.SchemaVersionError
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
}

// TestUpdate_WaitsForOtherWriter checks that a write through a second handle on
// the file, as from a CLI command while the server runs, waits for the first
// handle's write transaction instead of failing.
func TestUpdate_WaitsForOtherWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatepass.db")
	first, second := MustOpenDB(t, path), MustOpenDB(t, path)

	release := holdWriteLock(t, first)
	done := make(chan error, 1)
	go func() { done <- createUserErr(t, second, "bob") }()
	waitUntilBusy(t, done)

	release()
	if err := <-done; err != nil {
		t.Fatalf("second writer: %v", err)
	}
	for _, name := range []string{"alice", "bob"} {
		err := first.View(t.Context(), func(tx gatepass.Tx) error {
			_, err := tx.FindUserByName(t.Context(), name)
			return err
		})
		if err != nil {
			t.Errorf("user %s: %v", name, err)
		}
	}
}

// TestUpdate_BusyIsUnavailable checks that a write that gives up waiting for the
// lock reports EUNAVAILABLE.
func TestUpdate_BusyIsUnavailable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatepass.db")
	first := MustOpenDB(t, path)
	second := sqlite.NewDB(path)
	second.Logger = slog.New(slog.DiscardHandler)
	second.BusyTimeout = time.Millisecond
	if err := second.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer second.Close()

	release := holdWriteLock(t, first)
	defer release()
	err := createUserErr(t, second, "bob")
	if got := gatepass.ErrorCode(err); got != gatepass.EUNAVAILABLE {
		t.Errorf("error code = %q, want %q (error: %v)", got, gatepass.EUNAVAILABLE, err)
	}
}

// TestView_DoesNotWaitForWriter checks that reads, through the same handle or
// another, go on while a write transaction is open, and do not see its writes.
func TestView_DoesNotWaitForWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatepass.db")
	first, second := MustOpenDB(t, path), MustOpenDB(t, path)

	release := holdWriteLock(t, first)
	defer release()
	for _, db := range []*sqlite.DB{first, second} {
		err := db.View(t.Context(), func(tx gatepass.Tx) error {
			_, err := tx.FindUserByName(t.Context(), "alice")
			return err
		})
		if got := gatepass.ErrorCode(err); got != gatepass.ENOTFOUND {
			t.Errorf("View during a write: error code = %q, want %q", got, gatepass.ENOTFOUND)
		}
	}
}

// MustOpenDB opens a DB on path and closes it when the test ends.
func MustOpenDB(tb testing.TB, path string) *sqlite.DB {
	tb.Helper()
	db := OpenDB(tb, path)
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	return db
}

// OpenDB opens a DB on path, without logging; the caller closes it.
func OpenDB(tb testing.TB, path string) *sqlite.DB {
	tb.Helper()
	db := sqlite.NewDB(path)
	db.Logger = slog.New(slog.DiscardHandler)
	if err := db.Open(tb.Context()); err != nil {
		tb.Fatal(err)
	}
	return db
}

// holdWriteLock starts an Update on db that creates the user alice and holds the
// write lock until release is called; release then waits for it to commit.
func holdWriteLock(t *testing.T, db *sqlite.DB) (release func()) {
	t.Helper()
	held, unblock, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- db.Update(t.Context(), func(tx gatepass.Tx) error {
			if err := tx.CreateUser(t.Context(), newUser("alice")); err != nil {
				return err
			}
			close(held)
			<-unblock
			return nil
		})
	}()

	select {
	case <-held:
	case err := <-done:
		t.Fatalf("hold write lock: %v", err)
	}
	var released bool
	return func() {
		if released {
			return
		}
		released = true
		close(unblock)
		if err := <-done; err != nil {
			t.Errorf("first writer: %v", err)
		}
	}
}

// waitUntilBusy returns once some goroutine waits in SQLite's busy handler for a
// lock, and fails the test if the writer returns instead. It looks at goroutine
// stacks rather than at the clock, so no machine is too slow for it. The names
// are the driver's busy handler and SQLite's default one, which it replaces.
func waitUntilBusy(t *testing.T, done <-chan error) {
	t.Helper()
	buf := make([]byte, 1<<20)
	for {
		select {
		case err := <-done:
			t.Fatalf("second writer returned while the first held the lock: %v", err)
		default:
		}
		stacks := buf[:runtime.Stack(buf, true)]
		if bytes.Contains(stacks, []byte("sqlite.busyHandler")) ||
			bytes.Contains(stacks, []byte("sqliteDefaultBusyCallback")) {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

func newUser(name string) *gatepass.User {
	return &gatepass.User{
		Name:         name,
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
		CreatedAt:    time.Date(2026, time.March, 14, 15, 9, 26, 0, time.UTC),
	}
}

func createUser(t *testing.T, db *sqlite.DB, name string) {
	t.Helper()
	if err := createUserErr(t, db, name); err != nil {
		t.Fatal(err)
	}
}

func createUserErr(t *testing.T, db *sqlite.DB, name string) error {
	return db.Update(t.Context(), func(tx gatepass.Tx) error {
		return tx.CreateUser(t.Context(), newUser(name))
	})
}

func schemaVersion(t *testing.T, db *sqlite.DB) int {
	t.Helper()
	v, err := db.SchemaVersion(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// setUserVersion sets the schema version of the file at path behind gatepass's
// back, as a newer gatepass would.
func setUserVersion(t *testing.T, path string, version int) {
	t.Helper()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec("PRAGMA user_version = " + strconv.Itoa(version)); err != nil {
		t.Fatal(err)
	}
}
