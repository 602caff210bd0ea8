package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/gatepass/gatepass"
	"github.com/gatepass/gatepass/internal/storetest"
)

// TestAudit_AppendOnly checks that the database itself refuses to change or
// delete audit events, through a connection of its own, and refuses TRUNCATE,
// which fires no row trigger.
func TestAudit_AppendOnly(t *testing.T) {
	dsn := CreateDatabase(t)
	db := MustOpenDB(t, dsn)

	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	exec := func(ctx context.Context, query string) error {
		_, err := conn.Exec(ctx, query)
		return err
	}
	storetest.AuditAppendOnly(t, db, exec, func(ctx context.Context, cutoff time.Time,
		query string) error {
		return execPruning(ctx, conn, cutoff, query)
	})

	before := findAllEvents(t, db)
	if err := exec(t.Context(), `TRUNCATE audit_events`); err == nil {
		t.Error("TRUNCATE audit_events succeeded, want it refused")
	}
	if diff := cmp.Diff(findAllEvents(t, db), before); diff != "" {
		t.Errorf("events after TRUNCATE (-got +want):\n%s", diff)
	}
}

// execPruning runs query in a transaction that sets gatepass.audit_prune to
// cutoff, as Prune does to delete older audit events.
func execPruning(ctx context.Context, conn *pgx.Conn, cutoff time.Time, query string) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background())

	// SET takes no parameters; the cutoff is the test's own, never outside input.
	set := fmt.Sprintf("SET LOCAL gatepass.audit_prune = '%s'",
		cutoff.UTC().Format(time.RFC3339Nano))
	if _, err := tx.Exec(ctx, set); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, query); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

func findAllEvents(tb testing.TB, db gatepass.Store) []*gatepass.AuditEvent {
	tb.Helper()
	var events []*gatepass.AuditEvent
	err := db.View(tb.Context(), func(tx gatepass.Tx) error {
		var err error
		events, err = tx.FindAuditEvents(tb.Context(), gatepass.AuditFilter{})
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return events
}
