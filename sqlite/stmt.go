package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// maxCachedStatements bounds the statement cache. Every statement gatepass
// writes is one of a few dozen fixed shapes, so the bound is never reached in
// practice; it only keeps a mistake from growing the cache without end.
const maxCachedStatements = 128

// stmtCache holds the statements of write transactions, each prepared once on
// the writer connection: without it SQLite parses every statement anew on every
// call, which was a quarter of the CPU of a refresh-token rotation.
//
// A statement cannot be prepared on the pool while a transaction holds its one
// connection, so a statement seen for the first time runs unprepared and is
// prepared once its transaction has ended.
type stmtCache struct {
	pool *sql.DB

	mu      sync.Mutex
	stmts   map[string]*sql.Stmt
	pending map[string]struct{}
}

func newStmtCache(pool *sql.DB) *stmtCache {
	return &stmtCache{
		pool:    pool,
		stmts:   make(map[string]*sql.Stmt),
		pending: make(map[string]struct{}),
	}
}

// lookup returns the prepared statement for query, or nil, in which case query
// is queued for preparation. A nil cache (a View transaction) caches nothing.
func (c *stmtCache) lookup(query string) *sql.Stmt {
	if c == nil {
		return nil
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.stmts[query]; s != nil {
		return s
	}
	if len(c.stmts)+len(c.pending) < maxCachedStatements {
		c.pending[query] = struct{}{}
	}
	return nil
}

// prepare prepares the queued statements. It must run outside a transaction,
// since it needs the writer connection. A statement that fails to prepare is
// dropped; it just runs unprepared again, and is queued again, next time.
func (c *stmtCache) prepare(ctx context.Context) {
	if c == nil {
		return
	}

	c.mu.Lock()
	queries := make([]string, 0, len(c.pending))
	for q := range c.pending {
		queries = append(queries, q)
	}
	clear(c.pending)
	c.mu.Unlock()

	for _, q := range queries {
		s, err := c.pool.PrepareContext(ctx, q)
		if err != nil {
			continue
		}
		c.mu.Lock()
		if c.stmts[q] == nil {
			c.stmts[q], s = s, nil
		}
		c.mu.Unlock()
		if s != nil {
			s.Close() // prepared twice by racing calls
		}
	}
}

// close closes every cached statement.
func (c *stmtCache) close() error {
	if c == nil {
		return nil
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	var first error
	for q, s := range c.stmts {
		if err := s.Close(); err != nil && first == nil {
			first = err
		}
		delete(c.stmts, q)
	}
	return first
}

// execContext runs a statement that returns no rows, prepared when the transaction
// has a statement cache.
func (tx *tx) execContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if s := tx.stmts.lookup(query); s != nil {
		return tx.tx.StmtContext(ctx, s).ExecContext(ctx, args...)
	}
	return tx.tx.ExecContext(ctx, query, args...)
}

// queryRowContext runs a statement that returns at most one row, prepared when the
// transaction has a statement cache.
func (tx *tx) queryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if s := tx.stmts.lookup(query); s != nil {
		return tx.tx.StmtContext(ctx, s).QueryRowContext(ctx, args...)
	}
	return tx.tx.QueryRowContext(ctx, query, args...)
}

// queryContext runs a statement that returns rows, prepared when the transaction has
// a statement cache. The caller must close the rows before it runs the same
// query again: both would share one prepared statement.
func (tx *tx) queryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := tx.stmts.lookup(query); s != nil {
		return tx.tx.StmtContext(ctx, s).QueryContext(ctx, args...)
	}
	return tx.tx.QueryContext(ctx, query, args...)
}
