package postgres_test

import (
	"testing"

	"github.com/gatepass/gatepass/internal/storetest"
)

func BenchmarkRotate(b *testing.B) {
	db := MustOpenDB(b, CreateDatabase(b))
	storetest.BenchmarkRotate(b, db)
}
