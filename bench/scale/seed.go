package main

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/gatepass/gatepass/sqlite"
)

// Rows per multi-row INSERT and sessions per transaction. 500 rows of five
// columns stay far below SQLite's limit of 32,766 parameters.
const (
	rowsPerInsert = 500
	sessionsPerTx = 50_000
)

// seedSQLite creates the database at path through package sqlite, so that the
// real migrations make the schema, then fills it with plain SQL in large
// transactions: one user per sessionsByUser sessions, the sessions and one
// refresh token for each.
func seedSQLite(ctx context.Context, path string, p seedPlan) error {
	store := sqlite.NewDB(path)
	store.Logger = slog.New(slog.DiscardHandler)
	if err := store.Open(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := store.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}

	// Durability is pointless while seeding a throwaway file.
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("database path: %w", err)
	}
	dsn := "file:" + abs + "?" + url.Values{"_pragma": {
		"journal_mode(WAL)", "synchronous(OFF)", "busy_timeout(5000)"}}.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)

	if err := seedUsers(ctx, db, p); err != nil {
		return err
	}
	for from := 0; from < p.Sessions; from += sessionsPerTx {
		to := min(from+sessionsPerTx, p.Sessions)
		if err := seedSessions(ctx, db, p, from, to); err != nil {
			return err
		}
	}

	if _, err := db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// seedUsers inserts the accounts and the users that own the bulk sessions.
// The bulk users get the same hash: nobody signs in as them.
func seedUsers(ctx context.Context, db *sql.DB, p seedPlan) error {
	now := time.Now().UnixMicro()
	names := p.userNames()

	return inTx(ctx, db, func(tx *sql.Tx) error {
		for batch := range chunks(len(names)) {
			var args []any
			for _, name := range names[batch.from:batch.to] {
				args = append(args, name, p.PasswordHash, now)
			}
			q := "INSERT INTO users (name, password_hash, created_at) VALUES " +
				placeholders(batch.to-batch.from, 3)
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return fmt.Errorf("insert users: %w", err)
			}
		}
		return nil
	})
}

// seedSessions inserts sessions from to to-1 and their refresh tokens in one
// transaction, rowsPerInsert rows per statement.
func seedSessions(ctx context.Context, db *sql.DB, p seedPlan, from, to int) error {
	return inTx(ctx, db, func(tx *sql.Tx) error {
		var sessions, tokens []any
		n := 0
		for s := range p.sessions(from, to, time.Now()) {
			created := s.Created.UnixMicro()
			sessions = append(sessions, s.ID, s.UserID, created, created,
				s.SessionEnd.UnixMicro())
			tokens = append(tokens, s.Hash[:], s.ID, 1, created, s.TokenEnd.UnixMicro())
			if n++; n < rowsPerInsert {
				continue
			}
			if err := insertSessions(ctx, tx, n, sessions, tokens); err != nil {
				return err
			}
			sessions, tokens, n = sessions[:0], tokens[:0], 0
		}
		if n == 0 {
			return nil
		}
		return insertSessions(ctx, tx, n, sessions, tokens)
	})
}

// insertSessions inserts n sessions and their n refresh tokens, given as the
// flattened column values of each.
func insertSessions(ctx context.Context, tx *sql.Tx, n int, sessions, tokens []any) error {
	q := "INSERT INTO sessions (id, user_id, created_at, last_used_at, " +
		"expires_at) VALUES " + placeholders(n, 5)
	if _, err := tx.ExecContext(ctx, q, sessions...); err != nil {
		return fmt.Errorf("insert sessions: %w", err)
	}
	q = "INSERT INTO refresh_tokens (hash, session_id, generation, " +
		"created_at, expires_at) VALUES " + placeholders(n, 5)
	if _, err := tx.ExecContext(ctx, q, tokens...); err != nil {
		return fmt.Errorf("insert refresh tokens: %w", err)
	}
	return nil
}

// span is a half-open range of indexes.
type span struct{ from, to int }

// chunks splits 0..n-1 into spans of at most rowsPerInsert.
func chunks(n int) func(yield func(span) bool) {
	return func(yield func(span) bool) {
		for from := 0; from < n; from += rowsPerInsert {
			if !yield(span{from, min(from+rowsPerInsert, n)}) {
				return
			}
		}
	}
}

// placeholders returns "(?, ?), (?, ?)" for rows rows of cols columns.
func placeholders(rows, cols int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(row+", ", rows), ", ")
}

// inTx runs fn in a transaction and commits it unless fn fails.
func inTx(ctx context.Context, db *sql.DB, fn func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()

	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
