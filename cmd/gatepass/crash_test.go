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

// churnClient signs in, refreshes twice and signs out, over and over, so that
// the server is killed in the middle of sign-ins and revocations too.
type churnClient struct {
	// refresh is the token of the client's current session; "" between sessions.
	refresh   string
	rotations int // in the current session
	signOuts  int
}

// churnUntilError runs the client until a request fails. A failed request is
// sent again after the restart: a sign-in whose answer was lost leaves a session
// nobody holds, which must still be whole; a revocation is idempotent.
func (c *churnClient) churnUntilError(base string, stop <-chan struct{}) error {
	for {
		select {
		case <-stop:
			return nil
		default:
		}

		var status int
		var err error
		switch {
		case c.refresh == "":
			c.refresh, status, err = signInOnce(base, "bob", "bob-password")
			c.rotations = 0
		case c.rotations < 2:
			var next string
			if next, status, err = refreshOnce(base, c.refresh); status == http.StatusOK {
				c.refresh = next
				c.rotations++
			}
		default:
			if status, err = revokeOnce(base, c.refresh); status == http.StatusOK {
				c.refresh = ""
				c.signOuts++
			}
		}
		if err != nil {
			return nil
		} else if status != http.StatusOK {
			return fmt.Errorf("churn: answered %d", status)
		}
	}
}

var crashHTTP = &http.Client{Timeout: 30 * time.Second}

func refreshOnce(base, tok string) (string, int, error) {
	return tokenOnce(base, url.Values{"grant_type": {"refresh_token"},
		"refresh_token": {tok}})
}

func signInOnce(base, user, pw string) (string, int, error) {
	return tokenOnce(base, url.Values{"grant_type": {"password"}, "username": {user},
		"password": {pw}})
}

// tokenOnce posts to the token endpoint and returns the new refresh token.
func tokenOnce(base string, form url.Values) (string, int, error) {
	resp, err := crashHTTP.PostForm(base+"/oauth/token", form)
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

// revokeOnce revokes a refresh token's session (RFC 7009).
func revokeOnce(base, tok string) (int, error) {
	resp, err := crashHTTP.PostForm(base+"/oauth/revoke", url.Values{"token": {tok}})
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// TestSIGKILL_leavesNoHalfRotatedSession kills the server at random moments while
// clients refresh continuously and others sign in and out, restarts it, and
// checks that every session carries on or was revoked for a reason the audit
// trail recorded, that the database holds each family whole, and that the trail
// and the data agree.
func TestSIGKILL_leavesNoHalfRotatedSession(t *testing.T) {
	bin := MustBuild(t)
	db := filepath.Join(t.TempDir(), "gatepass.db")
	mustAddUser(t, bin, db, "alice", "alice-password")
	mustAddUser(t, bin, db, "bob", "bob-password")
	// A long reuse interval: a client whose last response was lost to the kill
	// resends its previous token after the restart, however slow the restart is.
	// Rate limits off: clients refreshing flat out from one address is a load
	// test, not an attack.
	args := []string{"--reuse-interval", "5m", "--rate-limit", "off"}

	p := StartProcess(t, bin, db, args...)
	clients := make([]*crashClient, 6)
	for i := range clients {
		tok, status, err := signInOnce(p.URL, "alice", "alice-password")
		if err != nil || status != http.StatusOK {
			t.Fatalf("sign-in: %d %v", status, err)
		}
		clients[i] = &crashClient{refresh: tok}
	}
	churners := make([]*churnClient, 3)
	for i := range churners {
		churners[i] = &churnClient{}
	}

	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 5 {
		runCrashRound(t, p, clients, churners,
			time.Duration(150+rng.IntN(350))*time.Millisecond)
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
	signOuts := 0
	for i, c := range churners {
		signOuts += c.signOuts
		if c.refresh == "" {
			continue
		}
		if _, status, err := refreshOnce(p.URL, c.refresh); err != nil || status != 200 {
			t.Errorf("churn client %d after the crashes: status %d, err %v", i, status, err)
		}
	}
	t.Logf("churn clients signed out %d times", signOuts)
	if signOuts == 0 {
		t.Error("no churn client ever signed out; the test proved nothing")
	}
	p.Signal(t, syscall.SIGTERM)

	sqlDB := openSQL(t, db)
	checkIntegrity(t, sqlDB)
	sessions := checkFamiliesWhole(t, sqlDB)
	checkTrail(t, sqlDB, sessions, len(clients))
}

// runCrashRound lets the clients work for about d, leaving them mid-request.
func runCrashRound(t *testing.T, p *Process, clients []*crashClient,
	churners []*churnClient, d time.Duration) {
	t.Helper()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make([]error, len(clients)+len(churners))
	for i, c := range clients {
		wg.Go(func() { errs[i] = c.refreshUntilError(p.URL, stop) })
	}
	for i, c := range churners {
		wg.Go(func() { errs[len(clients)+i] = c.churnUntilError(p.URL, stop) })
	}

	time.Sleep(d)
	if err := p.Signal(t, syscall.SIGKILL); err == nil {
		t.Fatal("the process survived SIGKILL")
	}
	close(stop)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("a request was refused: %v\n%s", err, p.Logs())
	}
}

// crashSession is a session as the database holds it after the crashes.
type crashSession struct {
	revokedAt    sql.NullInt64
	revokeReason string
	generations  int // rotations: the highest generation of its tokens
}

// checkIntegrity runs SQLite's own checks of the file and its foreign keys.
func checkIntegrity(t *testing.T, db *sql.DB) {
	t.Helper()
	var result string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&result); err != nil {
		t.Fatal(err)
	} else if result != "ok" {
		t.Errorf("integrity_check: %s", result)
	}

	rows, err := db.Query(`PRAGMA foreign_key_check`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var table string
		var rowid, parent, fkid any
		if err := rows.Scan(&table, &rowid, &parent, &fkid); err != nil {
			t.Fatal(err)
		}
		t.Errorf("foreign_key_check: row %v of %s refers to a missing %v", rowid, table,
			parent)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}

// checkFamiliesWhole reads the database directly: every session, revoked or
// not, must have exactly one unused refresh token, with generations 0..n
// unbroken. It returns the sessions by ID.
func checkFamiliesWhole(t *testing.T, db *sql.DB) map[string]*crashSession {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), `
		SELECT s.id, s.revoked_at, s.revoke_reason, COUNT(*), MAX(t.generation),
		       SUM(t.used_at IS NULL)
		FROM sessions s JOIN refresh_tokens t ON t.session_id = s.id
		GROUP BY s.id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()

	sessions := map[string]*crashSession{}
	for rows.Next() {
		var id string
		var s crashSession
		var count, unused int
		if err := rows.Scan(&id, &s.revokedAt, &s.revokeReason, &count, &s.generations,
			&unused); err != nil {
			t.Fatal(err)
		}
		sessions[id] = &s
		if unused != 1 || count != s.generations+1 {
			t.Errorf("session %s: tokens=%d max generation=%d unused=%d",
				id[:6], count, s.generations, unused)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}

	var total int
	if err := db.QueryRow(`SELECT COUNT(*) FROM sessions`).Scan(&total); err != nil {
		t.Fatal(err)
	} else if total != len(sessions) {
		t.Errorf("%d sessions, %d of them with refresh tokens", total, len(sessions))
	}
	return sessions
}

// checkTrail checks that the audit trail and the sessions agree: one sign-in
// per session, one refresh event per rotation, and a revocation event, at the
// revocation's time and with its reason, exactly for the revoked sessions. At
// least alive sessions must be alive: the long-running clients'.
func checkTrail(t *testing.T, db *sql.DB, sessions map[string]*crashSession, alive int) {
	t.Helper()
	type trail struct {
		signIns, rotations int
		revoked            []string // reasons
		revokedAt          []int64
	}
	trails := map[string]*trail{}
	rows, err := db.Query(`
		SELECT session_id, kind, reason, occurred_at
		FROM audit_events WHERE session_id IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var sid, kind, reason string
		var at int64
		if err := rows.Scan(&sid, &kind, &reason, &at); err != nil {
			t.Fatal(err)
		}
		tr := trails[sid]
		if tr == nil {
			tr = &trail{}
			trails[sid] = tr
		}
		switch {
		case kind == "sign_in":
			tr.signIns++
		case kind == "refresh" && reason == "":
			tr.rotations++
		case kind == "session_revoked":
			tr.revoked, tr.revokedAt = append(tr.revoked, reason), append(tr.revokedAt, at)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}

	live := 0
	for id, s := range sessions {
		tr := trails[id]
		if tr == nil {
			t.Errorf("session %s has no audit event", id[:6])
			continue
		}
		if tr.signIns != 1 || tr.rotations != s.generations {
			t.Errorf("session %s: %d sign-in events, %d refresh events for %d rotations",
				id[:6], tr.signIns, tr.rotations, s.generations)
		}
		switch {
		case !s.revokedAt.Valid && len(tr.revoked) == 0:
			live++
		case !s.revokedAt.Valid:
			t.Errorf("session %s is alive, but the trail says it was revoked (%v)",
				id[:6], tr.revoked)
		case len(tr.revoked) != 1 || tr.revoked[0] != s.revokeReason ||
			tr.revokedAt[0] != s.revokedAt.Int64:
			t.Errorf("session %s revoked for %q with no matching event: %v at %v",
				id[:6], s.revokeReason, tr.revoked, tr.revokedAt)
		}
	}
	for id := range trails {
		if sessions[id] == nil {
			t.Errorf("audit events of session %s, which is not in the database", id[:6])
		}
	}
	if live < alive {
		t.Errorf("%d sessions alive, want at least %d", live, alive)
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
