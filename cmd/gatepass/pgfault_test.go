package main_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatepass/gatepass/postgres"
)

// maxPoolConns bounds the connections a server's pool holds on this machine.
var maxPoolConns = int(postgres.DefaultMaxConns())

// TestPostgresBackendsKilledMidLoad terminates the server's database connections
// again and again while clients refresh. Every answer must be a success or a 503,
// and afterwards every session must still refresh: no 500, no half-done rotation.
func TestPostgresBackendsKilledMidLoad(t *testing.T) {
	dsn := MustCreatePostgres(t)
	p := NewProgram(t)
	p.DB = dsn
	p.MustRun(t, "alice-password\n", "user", "add", "alice", "--password-stdin")
	// A long reuse interval: a client whose rotation committed but whose answer was a
	// 503 resends its token, and must land on the current one however late. No rate
	// limit: the clients refresh flat out from one address.
	srv := p.MustServe(t, "--reuse-interval", "5m", "--rate-limit", "off")

	tokens := make([]string, 4)
	for i := range tokens {
		status, body := postForm(t, srv.URL+"/oauth/token", url.Values{
			"grant_type": {"password"}, "username": {"alice"}, "password": {"alice-password"}})
		if status != http.StatusOK {
			t.Fatalf("sign-in: %d %v", status, body)
		}
		tokens[i] = body["refresh_token"].(string)
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for i := range tokens {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				status, body := postForm(t, srv.URL+"/oauth/token", url.Values{
					"grant_type": {"refresh_token"}, "refresh_token": {tokens[i]}})
				mu.Lock()
				statuses[status]++
				mu.Unlock()
				if status == http.StatusOK {
					tokens[i] = body["refresh_token"].(string)
				}
			}
		})
	}

	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	killed := 0
	for range 20 {
		time.Sleep(25 * time.Millisecond)
		killed += terminateBackends(t, name)
	}
	close(stop)
	wg.Wait()

	for status, n := range statuses {
		if status != http.StatusOK && status != http.StatusServiceUnavailable {
			t.Errorf("%d answers with status %d during the faults", n, status)
		}
	}
	if statuses[http.StatusOK] == 0 {
		t.Error("no refresh succeeded; the test proved nothing")
	}
	// The pool may still hold connections killed last; a client retries a 503, as
	// it should, until the pool has replaced them.
	for i, tok := range tokens {
		status, body := 0, map[string]any(nil)
		for range 4 * maxPoolConns {
			status, body = postForm(t, srv.URL+"/oauth/token", url.Values{
				"grant_type": {"refresh_token"}, "refresh_token": {tok}})
			if status != http.StatusServiceUnavailable {
				break
			}
		}
		if status != http.StatusOK {
			t.Errorf("session %d after the faults: %d %v", i, status, body)
		}
	}
	if killed == 0 {
		t.Error("no connection was terminated; the test proved nothing")
	}
	t.Logf("terminated %d connections; answers during the faults: %v", killed, statuses)
}

// terminateBackends ends every connection to the named database, as a failover or
// an administrator would, and returns how many it ended.
func terminateBackends(tb testing.TB, database string) int {
	tb.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, testServerURL())
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close(ctx)
	rows, err := c.Query(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = $1 AND pid <> pg_backend_pid()`, database)
	if err != nil {
		tb.Fatal(err)
	}
	n := 0
	for rows.Next() {
		n++
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return n
}

// TestPostgresReadiness closes the database to new connections and ends the
// existing ones: /readyz must say 503 while it is gone, token requests must get
// 503 rather than 500, and both must recover once it is back.
func TestPostgresReadiness(t *testing.T) {
	dsn := MustCreatePostgres(t)
	p := NewProgram(t)
	p.DB = dsn
	p.MustRun(t, "alice-password\n", "user", "add", "alice", "--password-stdin")
	srv := p.MustServe(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	signIn := url.Values{"grant_type": {"password"}, "username": {"alice"},
		"password": {"alice-password"}}

	if status := getStatus(t, srv.URL+"/readyz"); status != http.StatusOK {
		t.Fatalf("/readyz before the outage: %d", status)
	}

	setConnections(t, name, false)
	terminateBackends(t, name)
	for range 4 * maxPoolConns {
		if getStatus(t, srv.URL+"/readyz") == http.StatusServiceUnavailable {
			break
		}
	}
	if status := getStatus(t, srv.URL+"/readyz"); status != http.StatusServiceUnavailable {
		t.Errorf("/readyz during the outage: %d, want 503", status)
	}
	if status, body := postForm(t, srv.URL+"/oauth/token", signIn); status !=
		http.StatusServiceUnavailable {
		t.Errorf("sign-in during the outage: %d %v, want 503", status, body)
	}

	setConnections(t, name, true)
	if status := getStatus(t, srv.URL+"/readyz"); status != http.StatusOK {
		t.Errorf("/readyz after the outage: %d, want 200", status)
	}
	if status, body := postForm(t, srv.URL+"/oauth/token", signIn); status != http.StatusOK {
		t.Errorf("sign-in after the outage: %d %v", status, body)
	}
}

// setConnections opens or closes a database to new connections.
func setConnections(tb testing.TB, database string, allow bool) {
	tb.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, testServerURL())
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close(ctx)
	value := "false"
	if allow {
		value = "true"
	}
	if _, err := c.Exec(ctx, "ALTER DATABASE "+database+" ALLOW_CONNECTIONS "+value); err != nil {
		tb.Fatal(err)
	}
}

func getStatus(tb testing.TB, u string) int {
	tb.Helper()
	resp, err := http.Get(u)
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
