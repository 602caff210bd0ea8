package main_test

import (
	"context"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// maxPoolConns bounds the connections a server's pool holds on this machine.
var maxPoolConns = 4 * runtime.GOMAXPROCS(0)

// TestPostgresBackendsKilledMidLoad terminates the server's database connections
// again and again while clients refresh. Every answer must be a success or a 503,
// and afterwards every session must still refresh: no 500, no half-done rotation.
func TestPostgresBackendsKilledMidLoad(t *testing.T) {
	dsn := MustCreatePostgres(t)
	p := NewProgram(t)
	p.DB = dsn
	p.MustRun(t, "alice-password\n", "user", "add", "alice", "--password-stdin")
	// A long reuse interval: a client whose rotation committed but whose answer was a
	// 503 resends its token, and must land on the current one however late.
	srv := p.MustServe(t, "--reuse-interval", "5m")

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
