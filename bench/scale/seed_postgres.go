package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatepass/gatepass/postgres"
)

// maintenanceDB is the database the tool connects to while it drops and
// creates the benchmark database.
const maintenanceDB = "postgres"

// pgTarget is a PostgreSQL database the tool may drop and create again.
type pgTarget struct {
	dsn   string // the database's URL, as given
	admin string // the same server's maintenance database
	name  string
}

// parsePGTarget checks that dsn is a postgres:// URL naming a database other
// than the server's own. Its errors never quote dsn: it may hold a password.
func parsePGTarget(dsn string) (pgTarget, error) {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return pgTarget{}, errors.New("-postgres: want a postgres:// URL")
	}

	name, err := url.PathUnescape(u.Path)
	if len(name) > 0 {
		name = name[1:]
	}
	if err != nil || name == "" {
		return pgTarget{}, errors.New("-postgres: the URL names no database")
	} else if slices.Contains([]string{"postgres", "template0", "template1"}, name) {
		return pgTarget{}, fmt.Errorf("-postgres: refusing to drop database %q", name)
	}

	admin := *u
	admin.Path, admin.RawPath = "/"+maintenanceDB, ""
	return pgTarget{dsn: dsn, admin: admin.String(), name: name}, nil
}

// seedPostgres drops and creates the target database, makes the schema with
// package postgres's migrations, then fills it with COPY: the users, and the
// sessions with their refresh tokens in transactions of sessionsPerTx. It ends
// with VACUUM ANALYZE and a checkpoint, so the measurements start from a store
// in the state autovacuum would keep it in, with no seeding work pending.
func seedPostgres(ctx context.Context, t pgTarget, p seedPlan) error {
	if err := recreateDatabase(ctx, t); err != nil {
		return err
	}

	store := postgres.NewDB(t.dsn)
	store.Logger = slog.New(slog.DiscardHandler)
	if err := store.Open(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	store.Close()

	conn, err := pgx.Connect(ctx, t.dsn)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", t.name, err)
	}
	defer conn.Close(context.Background())

	if err := copyUsers(ctx, conn, p); err != nil {
		return err
	}
	for from := 0; from < p.Sessions; from += sessionsPerTx {
		to := min(from+sessionsPerTx, p.Sessions)
		if err := copySessions(ctx, conn, p, from, to); err != nil {
			return err
		}
	}

	for _, q := range []string{"VACUUM (ANALYZE) users, sessions, refresh_tokens",
		"CHECKPOINT"} {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

// recreateDatabase drops the target database, ending its connections, and
// creates it empty.
func recreateDatabase(ctx context.Context, t pgTarget) error {
	conn, err := pgx.Connect(ctx, t.admin)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", maintenanceDB, err)
	}
	defer conn.Close(context.Background())

	ident := pgx.Identifier{t.name}.Sanitize()
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", t.name, err)
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident+" TEMPLATE template0"); err != nil {
		return fmt.Errorf("create database %s: %w", t.name, err)
	}
	return nil
}

// copyUsers copies in the accounts and the bulk users, in the order that
// gives them the user ids the sessions refer to.
func copyUsers(ctx context.Context, conn *pgx.Conn, p seedPlan) error {
	now := time.Now()
	names := p.userNames()
	rows := pgx.CopyFromSlice(len(names), func(i int) ([]any, error) {
		return []any{names[i], p.PasswordHash, now}, nil
	})

	cols := []string{"name", "password_hash", "created_at"}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"users"}, cols, rows); err != nil {
		return fmt.Errorf("copy users: %w", err)
	}
	return nil
}

// copySessions copies in sessions from to to-1 and their refresh tokens in one
// transaction.
func copySessions(ctx context.Context, conn *pgx.Conn, p seedPlan, from, to int) error {
	batch := make([]bulkSession, 0, to-from)
	for s := range p.sessions(from, to, time.Now()) {
		batch = append(batch, s)
	}

	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		sessions := pgx.CopyFromSlice(len(batch), func(i int) ([]any, error) {
			s := &batch[i]
			return []any{s.ID, s.UserID, s.Created, s.Created, s.SessionEnd}, nil
		})
		cols := []string{"id", "user_id", "created_at", "last_used_at", "expires_at"}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"sessions"}, cols, sessions); err != nil {
			return fmt.Errorf("copy sessions: %w", err)
		}

		tokens := pgx.CopyFromSlice(len(batch), func(i int) ([]any, error) {
			s := &batch[i]
			return []any{s.Hash[:], s.ID, int64(1), s.Created, s.TokenEnd}, nil
		})
		cols = []string{"hash", "session_id", "generation", "created_at", "expires_at"}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"refresh_tokens"}, cols,
			tokens); err != nil {
			return fmt.Errorf("copy refresh tokens: %w", err)
		}
		return nil
	})
}
