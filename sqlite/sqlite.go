// Package sqlite is the SQLite storage engine of gatepass: a gatepass.Store on one
// database file, through the pure-Go driver modernc.org/sqlite (no cgo).
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/gatepass/gatepass"

	// Registers the "sqlite" database/sql driver.
	_ "modernc.org/sqlite"
)

// Log attribute keys.
const (
	attrPath    = "path"
	attrMode    = "mode"
	attrVersion = "version"
	attrName    = "name"
)

// DefaultBusyTimeout is how long a write waits for another connection's write lock
// (for example a CLI command writing while the server runs) before it fails.
const DefaultBusyTimeout = 5 * time.Second

// Ensure DB implements the storage contract.
var _ gatepass.Store = (*DB)(nil)

// DB is a gatepass.Store on an SQLite file. Set the optional fields before Open.
//
// Writes go through one connection, so Update calls of one process run one at a
// time and each starts with BEGIN IMMEDIATE: the write lock is taken up front, never
// upgraded halfway, so two writers cannot deadlock. The writer keeps the
// statements of write transactions prepared, so SQLite parses each only once.
// Reads (View) use a separate pool of read-only connections and, in WAL mode,
// never wait for the writer.
type DB struct {
	// Path is the database file. It is a file system path, not a URI; ":memory:" is
	// not supported, because the reader and writer pools must share one database.
	Path string

	// BusyTimeout bounds the wait for another process's write lock.
	// Zero means DefaultBusyTimeout.
	BusyTimeout time.Duration

	// MaxReaders is the size of the read-only connection pool used by View.
	// Zero means max(4, GOMAXPROCS).
	MaxReaders int

	// Now returns the current time; it dates rows whose time the contract does not
	// pass in (secrets). Defaults to time.Now.
	Now func() time.Time

	// Logger receives lifecycle messages (migrations, file permissions).
	// Defaults to slog.Default().With("component", "sqlite").
	Logger *slog.Logger

	writer *sql.DB
	reader *sql.DB
	stmts  *stmtCache // statements prepared on the writer
}

// NewDB returns a DB for the file at path. Call Open before use.
func NewDB(path string) *DB {
	return &DB{Path: path}
}

// Open creates the file (mode 0600) if it does not exist, connects, and migrates
// the schema to the latest version. When the file's schema is newer than this
// binary knows, it returns a *SchemaVersionError and leaves schema and data alone.
func (db *DB) Open(ctx context.Context) (err error) {
	if db.Path == "" {
		return errors.New("sqlite: database path required")
	}
	if db.Now == nil {
		db.Now = time.Now
	}
	if db.Logger == nil {
		db.Logger = slog.Default().With("component", "sqlite")
	}
	defer func() {
		if err != nil {
			db.Close()
		}
	}()

	// Create the file ourselves so that it never exists with a wider mode.
	if err := db.createFile(); err != nil {
		return err
	}

	// Migrate through the writer first: it also switches the file to WAL, which the
	// readers rely on.
	if db.writer, err = db.openPool(db.writerParams(), 1); err != nil {
		return err
	}
	if err := db.migrate(ctx); err != nil {
		return err
	}
	db.stmts = newStmtCache(db.writer)

	db.reader, err = db.openPool(db.readerParams(), db.maxReaders())
	return err
}

// createFile creates the database file with mode 0600: it holds password hashes
// and private signing keys. SQLite gives the -wal and -shm files it creates later
// the mode of the database file. An existing file keeps its mode, since changing
// an operator's choice silently would surprise more than it protects; a mode
// readable by others is logged as a warning.
func (db *DB) createFile() error {
	f, err := os.OpenFile(db.Path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		return f.Close()
	} else if !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create database file: %w", err)
	}

	fi, err := os.Stat(db.Path)
	if err != nil {
		return fmt.Errorf("stat database file: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		db.Logger.Warn("database file is accessible to other users",
			attrPath, db.Path, attrMode, fi.Mode().Perm().String())
	}
	return nil
}

// writerParams are the connection settings of the single writer connection.
//
// synchronous=NORMAL in WAL mode syncs at checkpoints, not at every commit: a
// killed process loses nothing (the WAL is in the OS page cache), only a power
// failure or OS crash can lose the last commits, never corrupt the file. Surviving
// a killed process is what gatepass promises.
func (db *DB) writerParams() url.Values {
	v := db.commonParams()
	v.Set("_journal_mode", "WAL")
	v.Set("_synchronous", "NORMAL")
	v.Set("_txlock", "immediate")
	return v
}

// readerParams are the connection settings of the read-only pool. query_only
// makes any write attempted inside View fail.
func (db *DB) readerParams() url.Values {
	v := db.commonParams()
	v.Set("_query_only", "on")
	return v
}

func (db *DB) commonParams() url.Values {
	timeout := db.BusyTimeout
	if timeout == 0 {
		timeout = DefaultBusyTimeout
	}
	return url.Values{
		"_busy_timeout": {strconv.FormatInt(timeout.Milliseconds(), 10)},
		"_foreign_keys": {"on"},
	}
}

func (db *DB) maxReaders() int {
	if db.MaxReaders > 0 {
		return db.MaxReaders
	}
	return max(4, runtime.GOMAXPROCS(0))
}

// openPool opens a pool of n connections with params. Idle connections are kept,
// up to n, so that no request pays for opening a connection.
func (db *DB) openPool(params url.Values, n int) (*sql.DB, error) {
	dsn, err := db.dsn(params)
	if err != nil {
		return nil, err
	}
	pool, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	pool.SetMaxOpenConns(n)
	pool.SetMaxIdleConns(n)
	return pool, nil
}

// dsn returns an SQLite URI for the file with params. A URI, unlike a plain name,
// keeps a '?' or '#' in the path from being read as the start of the parameters.
func (db *DB) dsn(params url.Values) (string, error) {
	path, err := filepath.Abs(db.Path)
	if err != nil {
		return "", fmt.Errorf("database path: %w", err)
	}
	path = filepath.ToSlash(path)
	if !strings.HasPrefix(path, "/") {
		path = "/" + path // a Windows drive letter: file:/C:/...
	}
	escape := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
	return "file:" + escape.Replace(path) + "?" + params.Encode(), nil
}

// Close closes the database. It is safe to call on a DB that failed to open.
func (db *DB) Close() error {
	errs := []error{db.stmts.close()}
	if db.reader != nil {
		errs = append(errs, db.reader.Close())
	}
	if db.writer != nil {
		errs = append(errs, db.writer.Close())
	}
	return errors.Join(errs...)
}

// Ping reports whether the database answers, through a read-only connection so
// that it never waits for a write.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.reader.PingContext(ctx); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	return nil
}

// Update runs fn in a write transaction. Update calls of one process run one at a
// time; fn must not call Update itself, which would wait for its own transaction.
func (db *DB) Update(ctx context.Context, fn func(gatepass.Tx) error) error {
	err := db.run(ctx, db.writer, db.stmts, nil, fn)

	// The writer connection is free again: prepare what fn ran for the first time.
	db.stmts.prepare(ctx)
	return err
}

// View runs fn in a read-only transaction on a snapshot of the database.
func (db *DB) View(ctx context.Context, fn func(gatepass.Tx) error) error {
	return db.run(ctx, db.reader, nil, &sql.TxOptions{ReadOnly: true}, fn)
}
