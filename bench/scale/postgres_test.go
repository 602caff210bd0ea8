package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// mustPostgresURL returns the URL of a database for this test on the server
// GATEPASS_TEST_POSTGRES names, or skips the test. The tool creates the
// database; the test drops it when it ends.
func mustPostgresURL(t *testing.T) string {
	t.Helper()
	server := os.Getenv("GATEPASS_TEST_POSTGRES")
	if server == "" {
		t.Skip("set GATEPASS_TEST_POSTGRES to run the PostgreSQL tests, e.g. " +
			"postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
	}
	u, err := url.Parse(server)
	if err != nil {
		t.Fatalf("GATEPASS_TEST_POSTGRES: %v", err)
	}

	b := make([]byte, 8)
	rand.Read(b)
	name := "gatepass_scale_test_" + hex.EncodeToString(b)
	u.Path = "/" + name
	t.Cleanup(func() {
		ctx := context.Background()
		admin, err := pgx.Connect(ctx, server)
		if err != nil {
			t.Errorf("connect to GATEPASS_TEST_POSTGRES: %v", err)
			return
		}
		defer admin.Close(ctx)
		ident := pgx.Identifier{name}.Sanitize()
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database: %v", err)
		}
	})
	return u.String()
}

func TestParsePGTarget(t *testing.T) {
	tests := []struct {
		name    string
		dsn     string
		want    pgTarget
		wantErr bool
	}{
		{
			name: "url",
			dsn:  "postgres://u:pw@h:5/gatepass_scale?sslmode=disable",
			want: pgTarget{dsn: "postgres://u:pw@h:5/gatepass_scale?sslmode=disable",
				admin: "postgres://u:pw@h:5/postgres?sslmode=disable", name: "gatepass_scale"},
		},
		{name: "maintenance-db", dsn: "postgres://h/postgres", wantErr: true},
		{name: "template0", dsn: "postgresql://h/template0", wantErr: true},
		{name: "template1", dsn: "postgres://h/template1", wantErr: true},
		{name: "no-database", dsn: "postgres://h", wantErr: true},
		{name: "key-value", dsn: "host=h dbname=x", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parsePGTarget(tt.dsn)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error = %v, want error: %v", err, tt.wantErr)
			} else if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}
