package main_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// MustCreatePostgres creates an empty database on the server named by
// GATEPASS_TEST_POSTGRES, drops it when the test ends and returns its URL.
func MustCreatePostgres(tb testing.TB) string {
	tb.Helper()
	server := testServerURL()
	if server == "" {
		tb.Skip("set GATEPASS_TEST_POSTGRES to run the PostgreSQL tests, " +
			"e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
	}

	ctx := context.Background()
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		tb.Fatalf("connect to the test server: %v", err)
	}
	defer admin.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	name := "gatepass_cmd_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), server)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})

	u, err := url.Parse(server)
	if err != nil {
		tb.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// TestTwoInstancesOnePostgres runs two gatepass processes on one PostgreSQL
// database, as two instances behind a load balancer: a refresh token rotated on one and replayed on
// the other after the reuse interval revokes the family on both, and concurrent
// refreshes of one token spread over both yield exactly one successor.
func TestTwoInstancesOnePostgres(t *testing.T) {
	dsn := MustCreatePostgres(t)
	bin := MustBuild(t)
	mustAddUser(t, bin, dsn, "alice", "alice-password")
	a := StartProcess(t, bin, dsn, "--reuse-interval", "1s", "--rate-limit", "off")
	b := StartProcess(t, bin, dsn, "--reuse-interval", "1s", "--rate-limit", "off")

	login := func() map[string]any {
		status, body := postForm(t, a.URL+"/oauth/token", url.Values{"grant_type": {"password"},
			"username": {"alice"}, "password": {"alice-password"}})
		if status != http.StatusOK {
			t.Fatalf("sign-in: %d %v", status, body)
		}
		return body
	}
	refresh := func(srv *Process, tok string) (int, map[string]any) {
		return postForm(t, srv.URL+"/oauth/token", url.Values{
			"grant_type": {"refresh_token"}, "refresh_token": {tok}})
	}

	// 50 concurrent refreshes of one token, alternating between the instances.
	first := login()["refresh_token"].(string)
	var wg sync.WaitGroup
	var mu sync.Mutex
	successors := map[string]int{}
	for i := range 50 {
		srv := a
		if i%2 == 1 {
			srv = b
		}
		wg.Go(func() {
			status, body := refresh(srv, first)
			mu.Lock()
			defer mu.Unlock()
			if status == http.StatusOK {
				successors[body["refresh_token"].(string)]++
			} else {
				successors["error"]++
			}
		})
	}
	wg.Wait()
	if len(successors) != 1 || successors["error"] != 0 {
		t.Fatalf("50 concurrent refreshes gave %d distinct answers: %v", len(successors),
			successors)
	}

	// Rotate on A, replay on B after the interval: the family dies everywhere.
	var current string
	for tok := range successors {
		current = tok
	}
	status, next := refresh(a, current)
	if status != http.StatusOK {
		t.Fatalf("rotation on A: %d %v", status, next)
	}
	time.Sleep(1500 * time.Millisecond) // past the 1 s reuse interval
	if status, body := refresh(b, current); status != http.StatusBadRequest ||
		body["error"] != "invalid_grant" {
		t.Errorf("replay on B after the interval: %d %v, want invalid_grant", status, body)
	}
	for _, srv := range []*Process{a, b} {
		if status, _ := refresh(srv, next["refresh_token"].(string)); status !=
			http.StatusBadRequest {
			t.Errorf("the newest token of the revoked family still refreshes on %s", srv.URL)
		}
	}
}

// testServerURL is the PostgreSQL server the tests may create databases on.
func testServerURL() string {
	return os.Getenv("GATEPASS_TEST_POSTGRES")
}

// TestPostgresPasswordNotShown runs migrate and serve with a --db URL that
// holds a password twice, in the user part and in the query, and a client
// key's passphrase (the test server trusts every connection and uses no TLS,
// so none is checked): none may appear in what the commands print or log,
// while the rest of the URL does.
func TestPostgresPasswordNotShown(t *testing.T) {
	dsn := MustCreatePostgres(t)
	bin := MustBuild(t)
	const userPart, queryPart = "user-part-secret-5k2", "query-part-secret-9q4"
	const keyPart = "key-passphrase-secret-3m8"
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), userPart)
	q := u.Query()
	q.Set("password", queryPart)
	q.Set("sslpassword", keyPart)
	u.RawQuery = q.Encode()
	withPassword := u.String()

	out, err := exec.Command(bin, "migrate", "--db", withPassword).CombinedOutput()
	if err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	p := StartProcess(t, bin, withPassword)
	shown := map[string]string{"migrate output": string(out), "serve log": p.Logs()}
	for what, text := range shown {
		if strings.Contains(text, userPart) || strings.Contains(text, queryPart) ||
			strings.Contains(text, keyPart) {
			t.Errorf("%s shows the password:\n%s", what, text)
		}
		if !strings.Contains(text, u.Host) || !strings.Contains(text, "xxxxx") {
			t.Errorf("%s does not show the redacted URL:\n%s", what, text)
		}
	}
}

// TestPostgresMaxConns serves with --db-max-conns 2 and sends 40 concurrent
// requests that each read the database: all must succeed, and the server must
// never hold more than two connections. The pool keeps the connections it
// opened, so counting them afterwards sees the most it ever had.
func TestPostgresMaxConns(t *testing.T) {
	dsn := MustCreatePostgres(t)
	bin := MustBuild(t)
	mustAddUser(t, bin, dsn, "alice", "alice-password")
	srv := StartProcess(t, bin, dsn, "--db-max-conns", "2", "--rate-limit", "off")

	status, body := postForm(t, srv.URL+"/oauth/token", url.Values{"grant_type": {"password"},
		"username": {"alice"}, "password": {"alice-password"}})
	if status != http.StatusOK {
		t.Fatalf("sign-in: %d %v", status, body)
	}
	access := body["access_token"].(string)

	var wg sync.WaitGroup
	statuses := make([]int, 40)
	for i := range statuses {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/auth/me", nil)
			req.Header.Set("Authorization", "Bearer "+access)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		})
	}
	wg.Wait()
	for i, s := range statuses {
		if s != http.StatusOK {
			t.Errorf("request %d: status %d, want 200", i, s)
		}
	}

	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(t.Context(), testServerURL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	err = conn.QueryRow(t.Context(), `
		SELECT count(*) FROM pg_stat_activity
		WHERE datname = $1 AND application_name = 'gatepass'`,
		strings.TrimPrefix(u.Path, "/")).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	if n < 1 || n > 2 {
		t.Errorf("the server holds %d connections, want 1 or 2", n)
	}
}

// TestPruneWithoutAuditDelete runs "gatepass prune" as a PostgreSQL role that
// may not delete audit events, as SECURITY.md suggests for a protected trail,
// but with retention on: the expired session must still be deleted, the old
// event kept, and the command must fail saying why.
func TestPruneWithoutAuditDelete(t *testing.T) {
	dsn := MustCreatePostgres(t)
	bin := MustBuild(t)
	if out, err := exec.Command(bin, "migrate", "--db", dsn).CombinedOutput(); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}

	ctx := context.Background()
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	role := "gatepass_noaudit_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		// The database, and with it the role's grants, is dropped by then.
		c, err := pgx.Connect(context.Background(), testServerURL())
		if err == nil {
			c.Exec(context.Background(), "DROP ROLE IF EXISTS "+role)
			c.Close(context.Background())
		}
	})
	long := time.Now().Add(-365 * 24 * time.Hour)
	for _, stmt := range []string{
		"CREATE ROLE " + role + " LOGIN",
		"GRANT ALL ON ALL TABLES IN SCHEMA public TO " + role,
		"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO " + role,
		"REVOKE DELETE ON audit_events FROM " + role,
		`INSERT INTO users (name, password_hash, created_at, updated_at)
			VALUES ('alice', 'x', now(), now())`,
		`INSERT INTO sessions (id, user_id, client_id, scope, user_agent, ip_address,
			created_at, last_used_at, expires_at, revoke_reason)
			SELECT 'old', id, 'gatepass', '', '', '', $1, $1, $1, '' FROM users`,
		`INSERT INTO audit_events (occurred_at, kind) VALUES ($1, 'sign_in')`,
	} {
		var args []any
		if strings.Contains(stmt, "$1") {
			args = []any{long}
		}
		if _, err := admin.Exec(ctx, stmt, args...); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}

	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(role)
	out, err := exec.Command(bin, "prune", "--db", u.String()).CombinedOutput()
	if err == nil {
		t.Errorf("prune succeeded without DELETE on audit_events:\n%s", out)
	}
	for _, want := range []string{"pruned 1 sessions", "prune audit events"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("prune output lacks %q:\n%s", want, out)
		}
	}

	var sessions, events int
	err = admin.QueryRow(ctx, `SELECT (SELECT count(*) FROM sessions),
		(SELECT count(*) FROM audit_events WHERE occurred_at < now() - interval '300 days')`,
	).Scan(&sessions, &events)
	if err != nil {
		t.Fatal(err)
	}
	if sessions != 0 || events != 1 {
		t.Errorf("after prune: %d sessions and %d old events, want 0 and 1",
			sessions, events)
	}
}
