package main

import (
	"context"
	"database/sql"
	"encoding/base32"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/gatepass/gatepass/sqlite"
)

// Rows per multi-row INSERT and sessions per transaction. 500 rows of five
// columns stay far below SQLite's limit of 32,766 parameters.
const (
	rowsPerInsert  = 500
	sessionsPerTx  = 50_000
	sessionsByUser = 10
)

// seedPlan says what seedSQLite puts into a new database.
type seedPlan struct {
	// Sessions is how many sessions to create, each with one refresh token;
	// the first Expired of them are past their expiry, session and token.
	Sessions int
	Expired  int

	// Accounts are the names that load.Run signs in as, all with PasswordHash.
	Accounts     []string
	PasswordHash string
}

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
	names := append([]string(nil), p.Accounts...)
	for i := range bulkUsers(p.Sessions) {
		names = append(names, fmt.Sprintf("user-%d", i+1))
	}

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
// transaction. Session i belongs to the (i % users)th bulk user.
func seedSessions(ctx context.Context, db *sql.DB, p seedPlan, from, to int) error {
	// Ids and token hashes look like the real ones: random, so the primary-key
	// B-trees grow as they do in service. The generator is seeded for speed.
	rng := rand.NewChaCha8([32]byte{byte(from), byte(from >> 8), byte(from >> 16)})
	firstUser := int64(len(p.Accounts) + 1)
	users := int64(bulkUsers(p.Sessions))
	now := time.Now()

	return inTx(ctx, db, func(tx *sql.Tx) error {
		for batch := range chunks(to - from) {
			var sessions, tokens []any
			for i := from + batch.from; i < from+batch.to; i++ {
				created, sessionEnd, tokenEnd := now.Add(-time.Hour),
					now.Add(29*24*time.Hour), now.Add(7*24*time.Hour)
				if i < p.Expired {
					created, sessionEnd, tokenEnd = now.Add(-40*24*time.Hour),
						now.Add(-10*24*time.Hour), now.Add(-10*24*time.Hour)
				}

				var id [16]byte
				var hash [32]byte
				rng.Read(id[:])
				rng.Read(hash[:])
				sid := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).
					EncodeToString(id[:]))
				sessions = append(sessions, sid, firstUser+int64(i)%users,
					created.UnixMicro(), created.UnixMicro(), sessionEnd.UnixMicro())
				tokens = append(tokens, hash[:], sid, 1, created.UnixMicro(),
					tokenEnd.UnixMicro())
			}

			n := batch.to - batch.from
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
		}
		return nil
	})
}

// bulkUsers is how many users own the bulk sessions.
func bulkUsers(sessions int) int {
	return max(1, sessions/sessionsByUser)
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
