package main

// The command is a main package, so its test sits inside it. The smoke tests
// build gatepass, seed small stores (SQLite files, and a PostgreSQL database
// when GATEPASS_TEST_POSTGRES is set) and run every measurement for a moment;
// they check what the run reports and what it leaves in the databases, never
// how fast anything was.

import (
	"bytes"
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// counts is what a seeded database holds.
type counts struct {
	Users, Sessions, ExpiredSessions, Tokens, ExpiredTokens int
}

// mustCount reads the row counts of db, where mark is the engine's first
// placeholder and now the current time as the engine stores it.
func mustCount(t *testing.T, db *sql.DB, mark string, now any) counts {
	t.Helper()
	var c counts
	for q, dst := range map[string]*int{
		"SELECT count(*) FROM users":                               &c.Users,
		"SELECT count(*) FROM sessions":                            &c.Sessions,
		"SELECT count(*) FROM sessions WHERE expires_at < #":       &c.ExpiredSessions,
		"SELECT count(*) FROM refresh_tokens":                      &c.Tokens,
		"SELECT count(*) FROM refresh_tokens WHERE expires_at < #": &c.ExpiredTokens,
	} {
		var args []any
		if strings.Contains(q, "#") {
			q, args = strings.ReplaceAll(q, "#", mark), append(args, now)
		}
		if err := db.QueryRow(q, args...).Scan(dst); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return c
}

// mustCountSQLite reads the row counts of the SQLite database at path.
func mustCountSQLite(t *testing.T, path string) counts {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return mustCount(t, db, "?", time.Now().UnixMicro())
}

// mustCountPostgres reads the row counts of the PostgreSQL database at dsn.
func mustCountPostgres(t *testing.T, dsn string) counts {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return mustCount(t, db, "$1", time.Now())
}

func TestSeedSQLite(t *testing.T) {
	tests := []struct {
		name string
		plan seedPlan
		want counts
	}{
		{
			name: "half-expired-across-batches",
			plan: seedPlan{Sessions: 1203, Expired: 601, Accounts: []string{"a", "b"},
				PasswordHash: "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$a2V5"},
			want: counts{Users: 2 + 120, Sessions: 1203, ExpiredSessions: 601,
				Tokens: 1203, ExpiredTokens: 601},
		},
		{
			name: "none-expired",
			plan: seedPlan{Sessions: 5, Accounts: []string{"a"}, PasswordHash: "x"},
			want: counts{Users: 1 + 1, Sessions: 5, Tokens: 5},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "seed.db")
			if err := seedSQLite(context.Background(), path, tt.plan); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, mustCountSQLite(t, path)); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRunSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds gatepass and serves it")
	}
	dir := t.TempDir()
	mustRunSmoke(t, "-dir", dir)
	checkPruned(t, mustCountSQLite(t, filepath.Join(dir, "scale-400.db")))
}

func TestRunSmokePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds gatepass and serves it")
	}
	dsn := mustPostgresURL(t)
	mustRunSmoke(t, "-dir", t.TempDir(), "-postgres", dsn)
	checkPruned(t, mustCountPostgres(t, dsn))
}

// mustRunSmoke runs the tool on a 40-session and a 400-session store, half of
// them expired, with extra arguments, for a moment each. It checks that every
// row of the table is there with every request answered, and that the prune
// reported the expired rows it deleted.
func mustRunSmoke(t *testing.T, extra ...string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	args := append([]string{"-small", "40", "-sessions", "400", "-expired", "0.5",
		"-c", "2", "-users", "2", "-warmup", "200ms", "-d", "300ms",
		"-prune-window", "1500ms"}, extra...)
	if err := run(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\nstderr: %s", err, stderr.String())
	}

	var got []string
	for line := range strings.SplitSeq(stdout.String(), "\n") {
		cells := strings.Split(line, " | ")
		if len(cells) < 9 || !strings.HasPrefix(line, "| ") || cells[1] == "sessions" ||
			strings.HasPrefix(cells[1], "-") {
			continue
		}
		got = append(got, strings.TrimPrefix(cells[0], "| ")+" "+cells[1]+
			" errors="+cells[7])
	}
	want := []string{"throughput 40 errors=0", "throughput 400 errors=0",
		"no prune 400 errors=0", "during prune 400 errors=0"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("table rows (-want +got):\n%s\noutput:\n%s", diff, stdout.String())
	}
	for _, s := range []string{"pruned 200 sessions, 200 refresh tokens",
		"small store / large store refresh rate:"} {
		if !strings.Contains(stdout.String(), s) {
			t.Errorf("output lacks %q:\n%s", s, stdout.String())
		}
	}
}

// checkPruned checks the large store after the smoke run: the prune left no
// expired row, and the live sessions and the bench accounts are all there.
func checkPruned(t *testing.T, c counts) {
	t.Helper()
	if c.ExpiredSessions != 0 || c.ExpiredTokens != 0 {
		t.Errorf("expired rows after the prune: %+v", c)
	}
	if c.Sessions < 200 || c.Users != 2+40 {
		t.Errorf("rows after the prune: %+v, want at least 200 sessions and 42 users", c)
	}
}
