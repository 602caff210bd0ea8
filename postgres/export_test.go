package postgres

import "github.com/gatepass/gatepass"

// PoolCounts reports how many connections db's pool has opened in all and holds
// now, for tests that check a connection was kept rather than closed.
func PoolCounts(db *DB) (opened int64, held int32) {
	s := db.pool.Stat()
	return s.NewConnsCount(), s.TotalConns()
}

// HoldUnsendable queues in t, which must be one of package postgres, a
// statement whose argument pgx cannot encode, so that the batch it goes out
// with fails before any of it runs, the BEGIN included.
func HoldUnsendable(t gatepass.Tx) {
	t.(*tx).tx.hold("unsendable", "SELECT $1::int", []any{make(chan int)})
}
