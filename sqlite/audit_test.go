package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatepass/gatepass/internal/storetest"
)

// TestAudit_AppendOnly checks that the database file itself refuses to change or
// delete audit events, through a connection of its own as any other program on
// the file would use.
func TestAudit_AppendOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatepass.db")
	db := MustOpenDB(t, path)

	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	exec := func(ctx context.Context, query string) error {
		_, err := raw.ExecContext(ctx, query)
		return err
	}
	storetest.AuditAppendOnly(t, db, exec, func(ctx context.Context, cutoff time.Time,
		query string) error {
		return execPruning(ctx, raw, cutoff, query)
	})
}

// execPruning runs query in a transaction holding the cutoff row that lets
// Prune delete older audit events, removed again before the commit.
func execPruning(ctx context.Context, db *sql.DB, cutoff time.Time, query string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()

	_, err = tx.ExecContext(ctx, `
		INSERT INTO audit_prune_cutoff (id, occurred_before) VALUES (1, ?)`,
		cutoff.UnixMicro())
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, query); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM audit_prune_cutoff`); err != nil {
		return err
	}
	return tx.Commit()
}
