package migration_test

import (
	"testing"
	"testing/fstest"

	"github.com/gatepass/gatepass/internal/migration"
)

func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		files   []string
		wantErr bool
	}{
		{name: "in-order", files: []string{"0001_init.sql", "0002_more.sql"}},
		{name: "gap", files: []string{"0001_init.sql", "0003_more.sql"}, wantErr: true},
		{name: "duplicate", files: []string{"0001_a.sql", "0001_b.sql"}, wantErr: true},
		{name: "not-numbered", files: []string{"init.sql"}, wantErr: true},
		{name: "none", files: nil, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for _, f := range tt.files {
				fsys["migrations/"+f] = &fstest.MapFile{Data: []byte("-- " + f)}
			}

			got, err := migration.Load(fsys, "migrations/*.sql")
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			for i, m := range got {
				if m.Version != i+1 || m.Name != tt.files[i] || m.SQL != "-- "+tt.files[i] {
					t.Errorf("migration %d = %+v", i, m)
				}
			}
		})
	}
}
