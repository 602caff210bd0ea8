package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gatepass/gatepass"
	modernc "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Ensure tx implements the transaction contract.
var _ gatepass.Tx = (*tx)(nil)

// tx is one Update or View transaction.
type tx struct {
	tx *sql.Tx

	// stmts caches prepared statements; nil in a View.
	stmts *stmtCache

	// now is taken once per transaction, so rows it dates agree.
	now time.Time
}

// run runs fn in a transaction on pool, with the statements of stmts (which
// may be nil), and commits it if fn returns nil. The deferred Rollback undoes
// everything when fn fails or panics.
func (db *DB) run(ctx context.Context, pool *sql.DB, stmts *stmtCache,
	opts *sql.TxOptions, fn func(gatepass.Tx) error) error {
	if pool == nil {
		return errors.New("sqlite: database is not open")
	}

	// The cause stays in the chain for the log; the code is for the client.
	sqlTx, err := pool.BeginTx(ctx, opts)
	if isUnavailable(err) {
		unavailable := gatepass.Errorf(gatepass.EUNAVAILABLE, "database is unavailable")
		return fmt.Errorf("begin: %w: %w", unavailable, err)
	} else if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer sqlTx.Rollback()

	if err := fn(&tx{tx: sqlTx, stmts: stmts, now: db.Now().UTC()}); err != nil {
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// timeArg returns t in its stored form: Unix microseconds, or NULL for the zero
// time.
func timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// timeColumn scans a stored time into *t: UTC, or the zero time for NULL.
type timeColumn struct{ t *time.Time }

// Scan implements sql.Scanner.
func (c timeColumn) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.t = time.Time{}
	case int64:
		*c.t = time.UnixMicro(v).UTC()
	default:
		return fmt.Errorf("time column holds %T, want integer", src)
	}
	return nil
}

// requireTime rejects a zero time where the stored NULL would mean "not done":
// marking a token used or revoking a session at the zero time would leave it
// usable while reporting success.
func requireTime(at time.Time, what string) error {
	if at.IsZero() {
		return gatepass.Errorf(gatepass.EINVALID, "%s time is required", what)
	}
	return nil
}

// limitArg returns n as an SQLite LIMIT, where a negative value means no limit.
func limitArg(n int) int {
	if n <= 0 {
		return -1
	}
	return n
}

// sqliteCode returns the extended result code of an SQLite error in err's chain,
// or 0.
func sqliteCode(err error) int {
	var e *modernc.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

// isDuplicate reports whether err is a violated UNIQUE or PRIMARY KEY constraint.
func isDuplicate(err error) bool {
	switch sqliteCode(err) {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return true
	}
	return false
}

// isMissingParent reports whether err is a violated FOREIGN KEY constraint: the
// row refers to a user or session that does not exist.
func isMissingParent(err error) bool {
	return sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// isUnavailable reports whether err means the database cannot be used right now:
// locked past the busy timeout, or the file cannot be opened.
func isUnavailable(err error) bool {
	switch sqliteCode(err) & 0xff { // the primary code of an extended one
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_CANTOPEN:
		return true
	}
	return false
}

// rowsAffected returns the number of rows res changed.
func rowsAffected(res sql.Result) (int, error) {
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("rows affected: %w", err)
	}
	return int(n), nil
}
