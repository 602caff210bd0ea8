package postgres_test

import (
	"context"
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
		// A View is read-only, so PostgreSQL refuses the audit insert.
		if err := db.View(ctx, fn); err == nil {
			t.Errorf("%s: View succeeded", name)
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
