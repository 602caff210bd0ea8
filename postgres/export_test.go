package postgres

// PoolCounts reports how many connections db's pool has opened in all and holds
// now, for tests that check a connection was kept rather than closed.
func PoolCounts(db *DB) (opened int64, held int32) {
	s := db.pool.Stat()
	return s.NewConnsCount(), s.TotalConns()
}
