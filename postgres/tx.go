package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/gatepass/gatepass"
)

// Ensure tx implements the transaction contract.
var _ gatepass.Tx = (*tx)(nil)

// errNotOpen is returned by a DB used before Open.
var errNotOpen = errors.New("postgres: database is not open")

// errUnavailable marks errors that mean the database cannot be used right now.
// Its message is generic: the cause, kept in the chain for the log, may name
// hosts and users.
var errUnavailable = &gatepass.Error{
	Code:    gatepass.EUNAVAILABLE,
	Message: "database is unavailable",
}

// tx is one Update or View transaction.
type tx struct {
	tx *txConn

	// now is taken once per transaction, so rows it dates agree.
	now time.Time

	// locked is the refresh token LockRefreshToken last read, until it is
	// rotated.
	locked lockedToken
}

// run runs fn in a transaction with opts and commits it if fn returns nil. The
// deferred rollback undoes everything when fn fails or panics.
//
// A pooled connection can die between two uses, as when PostgreSQL restarts or
// an operator ends its backend; the pool pings only those idle for over a
// second. When the transaction's first batch fails for that reason, nothing of
// it can have taken effect (that batch began it and did not commit it), so fn
// runs once more on another connection. fn must therefore do nothing before its
// first statement that it could not do twice, as every caller's fn does.
func (db *DB) run(ctx context.Context, opts pgx.TxOptions, fn func(gatepass.Tx) error) error {
	if db.pool == nil {
		return errNotOpen
	}

	retry, err := db.runOnce(ctx, opts, fn)
	if retry && ctx.Err() == nil {
		db.Logger.Info("connection lost before the transaction began; retrying",
			attrError, err)
		_, err = db.runOnce(ctx, opts, fn)
	}
	return err
}

// runOnce is one attempt of run. retry reports that the first batch failed
// because the connection was unusable, so that the transaction never began.
func (db *DB) runOnce(ctx context.Context, opts pgx.TxOptions,
	fn func(gatepass.Tx) error) (retry bool, err error) {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return false, formatError("begin", err)
	}
	defer conn.Release()
	c := &txConn{conn: conn, begin: beginStatement(opts)}
	defer c.rollback(ctx)

	if err := fn(&tx{tx: c, now: db.Now().UTC()}); err != nil {
		return c.lostBeforeBegin, err
	}
	if err := c.commit(ctx); err != nil {
		// A failed commit is never run again: when the connection broke, the
		// COMMIT may or may not have taken effect, and even a batch that began
		// the transaction may have carried the COMMIT too.
		return false, formatError("commit", err)
	}
	return false, nil
}

// beginStatement is the BEGIN statement of a transaction with opts.
func beginStatement(opts pgx.TxOptions) string {
	begin := "BEGIN"
	if opts.IsoLevel != "" {
		begin += " ISOLATION LEVEL " + string(opts.IsoLevel)
	}
	if opts.AccessMode != "" {
		begin += " " + string(opts.AccessMode)
	}
	return begin
}

// timeArg returns t in its stored form: UTC, truncated to microseconds (the
// precision of TIMESTAMPTZ, which would round rather than truncate if sent in
// text form), or NULL for the zero time.
func timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Truncate(time.Microsecond)
}

// timeColumn scans a stored time into *t: UTC, or the zero time for NULL.
type timeColumn struct{ t *time.Time }

// ScanTimestamptz implements pgtype.TimestamptzScanner.
func (c timeColumn) ScanTimestamptz(v pgtype.Timestamptz) error {
	switch {
	case !v.Valid:
		*c.t = time.Time{}
	case v.InfinityModifier != pgtype.Finite:
		return errors.New("time column holds infinity")
	default:
		*c.t = v.Time.UTC()
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

// limitArg returns n as a LIMIT argument, where NULL means no limit.
func limitArg(n int) any {
	if n <= 0 {
		return nil
	}
	return n
}

// PostgreSQL error codes (SQLSTATE) the engine tells apart.
// https://www.postgresql.org/docs/current/errcodes-appendix.html
const (
	codeUniqueViolation     = "23505"
	codeForeignKeyViolation = "23503"
	codeDivisionByZero      = "22012"
	codeUndefinedTable      = "42P01"
	codeAdminShutdown       = "57P01"
	codeCrashShutdown       = "57P02"
	codeCannotConnectNow    = "57P03"
	classConnection         = "08" // connection_exception and its subclasses
)

// pgCode returns the SQLSTATE of a PostgreSQL error in err's chain, or "".
func pgCode(err error) string {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// isDuplicate reports whether err is a violated UNIQUE or PRIMARY KEY constraint.
func isDuplicate(err error) bool {
	return pgCode(err) == codeUniqueViolation
}

// isMissingParent reports whether err is a violated FOREIGN KEY constraint: the
// row refers to a user or session that does not exist.
func isMissingParent(err error) bool {
	return pgCode(err) == codeForeignKeyViolation
}

// isUnavailable reports whether err means the database cannot be used right
// now: it cannot be reached, the connection broke, the server is shutting down
// or starting, or no connection came free before the caller's deadline.
func isUnavailable(err error) bool {
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	if errors.As(err, &connectErr) {
		return true // whatever the cause, even a refused password
	}
	switch code := pgCode(err); {
	case code == codeAdminShutdown, code == codeCrashShutdown,
		code == codeCannotConnectNow, strings.HasPrefix(code, classConnection):
		return true
	case code != "":
		return false // the server answered
	}
	return errors.As(err, &netErr) || errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, context.DeadlineExceeded)
}

// formatError wraps err with what, marking it EUNAVAILABLE when it is.
func formatError(what string, err error) error {
	if isUnavailable(err) {
		return fmt.Errorf("%s: %w: %w", what, errUnavailable, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// exec runs a statement and returns the number of rows it changed.
func (tx *tx) exec(ctx context.Context, query string, args ...any) (int, error) {
	tag, err := tx.tx.Exec(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}

// prefixed qualifies each name in the column list columns with the table alias.
func prefixed(alias, columns string) string {
	names := strings.Split(columns, ",")
	for i, name := range names {
		names[i] = alias + "." + strings.TrimSpace(name)
	}
	return strings.Join(names, ", ")
}
