package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/gatepass/gatepass/internal/storetest"
)

func BenchmarkRotate(b *testing.B) {
	db := MustOpenDB(b, filepath.Join(b.TempDir(), "gatepass.db"))
	storetest.BenchmarkRotate(b, db)
}
