package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

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
	storetest.AuditAppendOnly(t, db, func(ctx context.Context, query string) error {
		_, err := raw.ExecContext(ctx, query)
		return err
	})
}
