package main_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// crashClient keeps one session alive by refreshing it over and over.
type crashClient struct {
	refresh   string
	refreshes int
}

// refreshUntilError refreshes until a request fails, which happens when the
// server is killed. A failed request keeps the token it sent: whether the server
// rotated it before dying or not, it must still lead to the session's current token.
func (c *crashClient) refreshUntilError(base string, stop <-chan struct{}) error {
	for {
		select {
		case <-stop:
			return nil
		default:
		}

		next, status, err := refreshOnce(base, c.refresh)
		if err != nil {
			return nil
		} else if status != http.StatusOK {
			return fmt.Errorf("refresh answered %d", status)
		}
		c.refresh = next
		c.refreshes++
	}
}

var crashHTTP = &http.Client{Timeout: 30 * time.Second}

func refreshOnce(base, tok string) (string, int, error) {
	resp, err := crashHTTP.PostForm(base+"/oauth/token", url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {tok}})
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	var body struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return "", resp.StatusCode, err
	}
	return body.RefreshToken, resp.StatusCode, nil
}

// TestSIGKILL_leavesNoHalfRotatedSession kills the server at random moments while
// clients refresh continuously, restarts it, and checks that every session carries
// on and that the database holds each family whole.
func TestSIGKILL_leavesNoHalfRotatedSession(t *testing.T) {
	bin := MustBuild(t)
	db := filepath.Join(t.TempDir(), "gatepass.db")
	mustAddUser(t, bin, db, "alice", "alice-password")
	// A long reuse interval: a client whose last response was lost to the kill
	// resends its previous token after the restart, however slow the restart is.
	// Rate limits off: six clients refreshing flat out from one address is a load
	// test, not an attack.
	args := []string{"--reuse-interval", "5m", "--rate-limit", "off"}

	p := StartProcess(t, bin, db, args...)
	clients := make([]*crashClient, 6)
	for i := range clients {
		status, body := postForm(t, p.URL+"/oauth/token", url.Values{"grant_type": {"password"},
			"username": {"alice"}, "password": {"alice-password"}})
		if status != http.StatusOK {
			t.Fatalf("sign-in: %d %v", status, body)
		}
		clients[i] = &crashClient{refresh: body["refresh_token"].(string)}
	}

	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 5 {
		runCrashRound(t, p, clients, time.Duration(50+rng.IntN(250))*time.Millisecond)
		t.Logf("round %d: killed the server mid-load", round)
		p = StartProcess(t, bin, db, args...)
	}

	for i, c := range clients {
		if _, status, err := refreshOnce(p.URL, c.refresh); err != nil || status != 200 {
			t.Errorf("client %d after the crashes: status %d, err %v", i, status, err)
		}
		if c.refreshes == 0 {
			t.Errorf("client %d never refreshed; the test proved nothing", i)
		}
	}
	p.Signal(t, syscall.SIGTERM)
	checkFamiliesWhole(t, db, len(clients))
}

// runCrashRound lets the clients refresh for about d, leaving them mid-request.
func runCrashRound(t *testing.T, p *Process, clients []*crashClient, d time.Duration) {
	t.Helper()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make([]error, len(clients))
	for i, c := range clients {
		wg.Go(func() { errs[i] = c.refreshUntilError(p.URL, stop) })
	}

	time.Sleep(d)
	if err := p.Signal(t, syscall.SIGKILL); err == nil {
		t.Fatal("the process survived SIGKILL")
	}
	close(stop)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("a refresh was refused: %v\n%s", err, p.Logs())
	}
}

// checkFamiliesWhole reads the database directly: every session must be alive and
// have exactly one unused refresh token, with generations 0..n unbroken.
func checkFamiliesWhole(t *testing.T, path string, want int) {
	t.Helper()
	db := openSQL(t, path)

	rows, err := db.QueryContext(context.Background(), `
		SELECT s.id, s.revoked_at IS NOT NULL, COUNT(*), MAX(t.generation),
		       SUM(t.used_at IS NULL)
		FROM sessions s JOIN refresh_tokens t ON t.session_id = s.id
		GROUP BY s.id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()

	n := 0
	for rows.Next() {
		var id string
		var revoked bool
		var count, maxGen, unused int
		if err := rows.Scan(&id, &revoked, &count, &maxGen, &unused); err != nil {
			t.Fatal(err)
		}
		n++
		if revoked || unused != 1 || count != maxGen+1 {
			t.Errorf("session %s: revoked=%v tokens=%d max generation=%d unused=%d",
				id[:6], revoked, count, maxGen, unused)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != want {
		t.Errorf("%d sessions in the database, want %d", n, want)
	}
}

// openSQL opens an SQLite file read-only for tests that check rows directly.
func openSQL(tb testing.TB, path string) *sql.DB {
	tb.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}
