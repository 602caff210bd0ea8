package postgres_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/postgres"
)

// TestTransactionsKeepTheirConnection runs transactions that fail in each way
// the batching of statements makes possible: a held-back write refused with
// the COMMIT, one refused with the next statement, and fn's own error before
// anything was sent. Each must end cleanly, so the pool keeps its connection
// instead of closing it and opening another.
func TestTransactionsKeepTheirConnection(t *testing.T) {
	db := MustOpenDB(t, CreateDatabase(t))
	ctx := context.Background()
	event := func() *gatepass.AuditEvent {
		return &gatepass.AuditEvent{OccurredAt: time.Now(), Kind: gatepass.AuditSignIn}
	}
	ping := func(tx gatepass.Tx) error {
		_, err := tx.FindSecret(ctx, "nothing")
		if gatepass.ErrorCode(err) == gatepass.ENOTFOUND {
			return nil
		}
		return err
	}
	for range 3 { // let the pool settle on its connection
		if err := db.View(ctx, ping); err != nil {
			t.Fatal(err)
		}
	}
	opened, held := postgres.PoolCounts(db)

	failures := map[string]func(gatepass.Tx) error{
		"write-refused-with-commit": func(tx gatepass.Tx) error {
			return tx.CreateAuditEvent(ctx, event())
		},
		"write-refused-with-next-statement": func(tx gatepass.Tx) error {
			if err := tx.CreateAuditEvent(ctx, event()); err != nil {
				return err
			}
			return ping(tx)
		},
		"fn-error-before-sending": func(tx gatepass.Tx) error {
			if err := tx.CreateAuditEvent(ctx, event()); err != nil {
				return err
			}
			return gatepass.Errorf(gatepass.EINVALID, "changed my mind")
		},
	}
	for name, fn := range failures {
		// A View is read-only, so PostgreSQL refuses the audit insert, and its
		// error is the one returned; fn's own error comes first when fn fails
		// before anything is sent.
		want := "insert audit event"
		if name == "fn-error-before-sending" {
			want = "changed my mind"
		}
		if err := db.View(ctx, fn); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: View returned %v, want the error of %q", name, err, want)
		}
		if err := db.View(ctx, ping); err != nil {
			t.Errorf("%s: the next transaction failed: %v", name, err)
		}
	}

	// A closed connection shows as one fewer held, or, when it was the only
	// one, as one more opened.
	if o, h := postgres.PoolCounts(db); o != opened || h != held {
		t.Errorf("pool: %d connections opened and %d held after the failures, "+
			"%d and %d before", o, h, opened, held)
	}
}

// TestUpdate_RetriesOnDeadConnection ends the backend of the pool's only,
// idle connection, as a PostgreSQL restart or an operator would, and runs a
// transaction at once, before the pool would ping the connection: the first
// batch fails, nothing of the transaction took effect, so it runs again on a
// new connection and succeeds. The change it makes is there exactly once.
func TestUpdate_RetriesOnDeadConnection(t *testing.T) {
	dsn := CreateDatabase(t)
	var logs bytes.Buffer
	db := postgres.NewDB(dsn)
	db.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	db.MaxConns = 1
	if err := db.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := t.Context()
	alice := createUser(t, db, "alice")

	// pg_terminate_backend with a timeout waits until the backend has exited.
	var ended bool
	err := AdminConn(t).QueryRow(ctx, `
		SELECT bool_and(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity
		WHERE datname = $1 AND pid <> pg_backend_pid()`,
		databaseName(t, dsn)).Scan(&ended)
	if err != nil || !ended {
		t.Fatalf("terminate the pool's backend: %v (ended %v)", err, ended)
	}

	err = db.Update(ctx, func(tx gatepass.Tx) error {
		return tx.CreateSession(ctx, newSession("s1", alice.ID))
	})
	if err != nil {
		t.Fatalf("Update after the connection died: %v", err)
	}
	if !strings.Contains(logs.String(), "retrying") {
		t.Errorf("the transaction was not retried; the test did not hit a dead "+
			"connection:\n%s", logs.String())
	}
	if n := countRows(t, dsn, "SELECT count(*) FROM sessions"); n != 1 {
		t.Errorf("%d sessions, want 1", n)
	}
}

// TestTransactionBrokenBatch holds back a statement that cannot be sent, so
// the batch that carries it and the BEGIN fails before any of it runs. fn
// ignores that and writes on: the write must fail too, rather than run and
// commit on its own outside any transaction, and so must the commit. Nothing
// of the transaction may be kept.
func TestTransactionBrokenBatch(t *testing.T) {
	dsn := CreateDatabase(t)
	db := MustOpenDB(t, dsn)
	ctx := t.Context()
	alice := createUser(t, db, "alice")

	var errs []error
	err := db.Update(ctx, func(tx gatepass.Tx) error {
		postgres.HoldUnsendable(tx)
		_, err := tx.FindSecret(ctx, "nothing")
		errs = append(errs, err)
		errs = append(errs, tx.CreateSession(ctx, newSession("s1", alice.ID)))
		return nil
	})

	if err == nil {
		t.Error("Update succeeded after a batch of it failed")
	}
	for i, err := range errs {
		// The batch fails as a whole, so its BEGIN reports the error.
		if err == nil || !strings.Contains(err.Error(), "begin: ") {
			t.Errorf("call %d after the batch failed: %v, want the batch's error", i, err)
		}
	}
	if n := countRows(t, dsn, "SELECT count(*) FROM sessions"); n != 0 {
		t.Errorf("%d sessions kept, want none", n)
	}
}
