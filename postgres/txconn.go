package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// txConn is the connection of one transaction. It saves round trips by holding
// back the statements whose answers nobody waits for: the BEGIN, and writes
// queued with hold. They go out in one batch with the next statement that is
// waited for, or with the COMMIT. A rotation takes two round trips this way
// instead of eight, and PostgreSQL wakes up for each round trip, not for each
// statement.
//
// pgx.Tx sends every statement, BEGIN and COMMIT included, on its own, so this
// is written here on top of pgx's batches.
type txConn struct {
	conn  *pgxpool.Conn
	begin string // the BEGIN statement, until it is sent

	held []heldStatement
	done bool // the transaction has been committed or rolled back

	// broken is the error of a batch whose held-back part failed. What the
	// connection holds is then unknown (the BEGIN itself may not have run, and
	// later statements would each commit on their own), so every later call
	// returns it.
	broken error

	// firstBatch is set while the batch that begins the transaction is out;
	// lostBeforeBegin records that it failed because the connection was
	// unusable, so that nothing of the transaction took effect.
	firstBatch, lostBeforeBegin bool
}

// heldStatement is a statement waiting to go out with the next batch.
type heldStatement struct {
	what string // names the statement in its error
	sql  string
	args []any
	dest []any // where to scan the row it returns; nil for none

	// fail, when set, turns the statement's error into the one returned.
	fail func(error) error
}

// errCommitRolledBack reports a COMMIT that PostgreSQL answered with ROLLBACK:
// a statement of the transaction had failed.
var errCommitRolledBack = errors.New("commit unexpectedly resulted in rollback")

// hold queues sql to go out with the next batch. Its error, if any, is
// returned by the call that sends the batch. With dest, the statement must
// return exactly one row, which is scanned into dest.
func (c *txConn) hold(what, sql string, args []any, dest ...any) {
	c.held = append(c.held, heldStatement{what: what, sql: sql, args: args, dest: dest})
}

// holdChecked queues a write to go out with the next batch, like hold, but its
// error, if any, is the one fail makes of it.
func (c *txConn) holdChecked(sql string, args []any, fail func(error) error) {
	c.held = append(c.held, heldStatement{sql: sql, args: args, fail: fail})
}

// direct reports whether nothing is held back, so a statement can go alone.
func (c *txConn) direct() bool {
	return c.begin == "" && len(c.held) == 0 && c.broken == nil
}

// send sends what is held back, then sql, in one batch, and reads the answers to
// what was held back. The returned batch is positioned at sql's answer; the
// caller reads it and closes the batch.
func (c *txConn) send(ctx context.Context, sql string, args []any) (pgx.BatchResults, error) {
	if c.broken != nil {
		return nil, c.broken
	}

	var b pgx.Batch
	begin := c.begin
	c.firstBatch = begin != ""
	if begin != "" {
		b.Queue(begin)
		c.begin = ""
	}
	held := c.held
	c.held = nil
	for _, h := range held {
		b.Queue(h.sql, h.args...)
	}
	b.Queue(sql, args...)
	br := c.conn.SendBatch(ctx, &b)

	if begin != "" {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return nil, c.breaks(fmt.Errorf("begin: %w", err))
		}
	}
	for _, h := range held {
		var err error
		if h.dest != nil {
			err = br.QueryRow().Scan(h.dest...)
		} else {
			_, err = br.Exec()
		}
		if err != nil {
			br.Close()
			if h.fail != nil {
				return nil, c.breaks(h.fail(err))
			}
			return nil, c.breaks(fmt.Errorf("%s: %w", h.what, err))
		}
	}
	return br, nil
}

// Exec runs sql, after anything held back, and returns its command tag.
func (c *txConn) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if c.direct() {
		c.firstBatch = false
		return c.conn.Exec(ctx, sql, args...)
	}

	br, err := c.send(ctx, sql, args)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	tag, err := br.Exec()
	if closeErr := br.Close(); err == nil {
		err = closeErr
	}
	return tag, c.failed(err)
}

// breaks records err as the failure of a batch's held-back part, and returns
// it after failed has seen it.
func (c *txConn) breaks(err error) error {
	c.broken = c.failed(err)
	return c.broken
}

// failed notes err, if any, of the batch that began the transaction: when
// the connection was unusable, the transaction never took effect. It returns
// err.
func (c *txConn) failed(err error) error {
	if err != nil && c.firstBatch && isUnavailable(err) {
		c.lostBeforeBegin = true
	}
	return err
}

// QueryRow runs sql, after anything held back, when its row is scanned.
func (c *txConn) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if c.direct() {
		c.firstBatch = false
		return c.conn.QueryRow(ctx, sql, args...)
	}
	return &batchRow{ctx: ctx, c: c, sql: sql, args: args}
}

// batchRow is the row of a statement that goes out with held-back ones.
type batchRow struct {
	ctx  context.Context
	c    *txConn
	sql  string
	args []any
}

// Scan implements pgx.Row.
func (r *batchRow) Scan(dest ...any) error {
	br, err := r.c.send(r.ctx, r.sql, r.args)
	if err != nil {
		return err
	}
	err = br.QueryRow().Scan(dest...)
	if closeErr := br.Close(); err == nil {
		err = closeErr
	}
	return r.c.failed(err)
}

// Query runs sql, after anything held back. Closing the rows ends the batch.
func (c *txConn) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if c.direct() {
		c.firstBatch = false
		return c.conn.Query(ctx, sql, args...)
	}

	br, err := c.send(ctx, sql, args)
	if err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		br.Close()
		return nil, c.failed(err)
	}
	return &batchRows{Rows: rows, br: br}, nil
}

// batchRows are the rows of a statement sent with held-back ones.
type batchRows struct {
	pgx.Rows
	br  pgx.BatchResults
	err error
}

// Close implements pgx.Rows, closing the batch too.
func (r *batchRows) Close() {
	if r.br == nil {
		return
	}
	r.Rows.Close()
	r.err = r.br.Close()
	r.br = nil
}

// Err implements pgx.Rows, reporting the batch's error too.
func (r *batchRows) Err() error {
	if err := r.Rows.Err(); err != nil {
		return err
	}
	return r.err
}

// Next implements pgx.Rows; like pgx's rows, they close themselves at the end.
func (r *batchRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.Close()
	return false
}

// commit sends what is held back and COMMIT. A transaction that sent nothing
// has nothing to commit.
func (c *txConn) commit(ctx context.Context) error {
	if c.begin != "" && len(c.held) == 0 {
		c.done = true
		return nil
	}

	// A statement sent with the COMMIT may fail, and PostgreSQL then skips the
	// COMMIT and leaves the transaction open, failed: only a COMMIT that was
	// answered ends it. Otherwise rollback ends it, and the connection can be
	// used again rather than closed.
	tag, err := c.Exec(ctx, "COMMIT")
	if err != nil {
		return err
	}
	c.done = true
	if tag.String() == "ROLLBACK" {
		return errCommitRolledBack
	}
	return nil
}

// rollback ends the transaction, unless it committed or never began, and
// forgets what is held back. A connection whose rollback fails is closed, so
// the pool never hands out one inside a transaction.
func (c *txConn) rollback(ctx context.Context) {
	c.held = nil
	if c.done || c.begin != "" {
		return
	}
	c.done = true

	// It does not give up when ctx is done: it gets a few seconds of its own.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	if _, err := c.conn.Exec(ctx, "ROLLBACK"); err != nil {
		c.conn.Conn().Close(ctx)
	}
}
