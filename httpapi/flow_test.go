package httpapi_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatepass/gatepass"
	"github.com/google/go-cmp/cmp"
)

// TestFlow walks a session from sign-in through expiry, refresh and theft
// detection.
func TestFlow(t *testing.T) {
	e := MustStartEnv(t)
	u := e.MustCreateUser(t, testUser, testEmail)

	// Sign in.
	res := e.Login(t, testUser, testPassword)
	first := MustTokens(t, res)
	if got := res.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}
	if got := res.header.Get("Pragma"); got != "no-cache" {
		t.Errorf("Pragma = %q, want no-cache", got)
	}
	if first.TokenType != "Bearer" || first.ExpiresIn != 900 || first.Scope != "profile email" ||
		first.AccessToken == "" || first.RefreshToken == "" {
		t.Errorf("token response = %+v", first)
	}

	// The access token works.
	sessions := e.Sessions(t, u.ID)
	if len(sessions) != 1 {
		t.Fatalf("%d sessions stored, want 1", len(sessions))
	}
	res = e.Get(t, "/auth/me", first.AccessToken)
	want := map[string]any{
		"user_id": "1", "username": testUser, "email": testEmail,
		"scope": "profile email", "session_id": sessions[0].ID, "client_id": "gatepass",
		"expires_at": startTime.Add(15 * time.Minute).Format(time.RFC3339),
	}
	if diff := cmp.Diff(res.JSON(t), want); diff != "" || res.status != http.StatusOK {
		t.Errorf("GET /auth/me: status %d, body (-got +want):\n%s", res.status, diff)
	}

	// Past its lifetime and the leeway it does not.
	e.clock.Advance(16 * time.Minute)
	res = e.Get(t, "/auth/me", first.AccessToken)
	wantError(t, res, http.StatusUnauthorized, "invalid_token")
	wantChallenge := `Bearer realm="gatepass", error="invalid_token", ` +
		`error_description="token has expired"`
	if got := res.header.Get("WWW-Authenticate"); got != wantChallenge {
		t.Errorf("WWW-Authenticate = %q, want %q", got, wantChallenge)
	}

	// A refresh gives a new pair that works.
	second := MustTokens(t, e.Refresh(t, first.RefreshToken))
	if second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
		t.Errorf("refresh returned an old token")
	}
	if res := e.Get(t, "/auth/me", second.AccessToken); res.status != http.StatusOK {
		t.Errorf("GET /auth/me with refreshed token: status %d, body %s", res.status, res.body)
	}

	// The first refresh token, replayed after the reuse interval, is theft: the
	// whole family dies, the newest token too.
	e.clock.Advance(11 * time.Second)
	wantError(t, e.Refresh(t, first.RefreshToken), http.StatusBadRequest, "invalid_grant")
	wantError(t, e.Refresh(t, second.RefreshToken), http.StatusBadRequest, "invalid_grant")

	sessions = e.Sessions(t, u.ID)
	if len(sessions) != 1 {
		t.Fatalf("%d sessions stored, want 1", len(sessions))
	} else if sessions[0].RevokeReason != gatepass.RevokeReuse {
		t.Errorf("stored session revoke reason = %q, want %q", sessions[0].RevokeReason,
			gatepass.RevokeReuse)
	}
	if !strings.Contains(e.logs.String(), "refresh token reuse detected") {
		t.Errorf("reuse was not logged")
	}
}

// TestRefreshRace checks the reuse interval: clients racing with one refresh token
// all stay signed in and converge on one successor, and replays never fork the
// chain.
func TestRefreshRace(t *testing.T) {
	e := MustStartEnv(t)
	u := e.MustCreateUser(t, testUser, "")
	first := e.MustLogin(t, testUser)

	// Fifty concurrent refreshes of one token.
	const n = 50
	results := make([]*response, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { results[i] = e.Refresh(t, first.RefreshToken) })
	}
	wg.Wait()

	successors := map[string]int{}
	for i, res := range results {
		if res.status != http.StatusOK {
			t.Errorf("refresh %d: status %d, body %s", i, res.status, res.body)
			continue
		}
		successors[MustTokens(t, res).RefreshToken]++
	}
	if len(successors) != 1 {
		t.Fatalf("racing refreshes got %d different refresh tokens, want 1", len(successors))
	}
	var second string
	for tok := range successors {
		second = tok
	}

	// A replay inside the interval gets the same successor.
	e.clock.Advance(5 * time.Second)
	if got := MustTokens(t, e.Refresh(t, first.RefreshToken)).RefreshToken; got != second {
		t.Errorf("replay inside the interval got another refresh token")
	}

	// After one more rotation, the oldest token replayed inside the interval gets
	// the current token, not a branch of its own.
	third := MustTokens(t, e.Refresh(t, second)).RefreshToken
	if got := MustTokens(t, e.Refresh(t, first.RefreshToken)).RefreshToken; got != third {
		t.Errorf("replay of an ancestor did not converge on the current token")
	}
	if got := MustTokens(t, e.Refresh(t, second)).RefreshToken; got != third {
		t.Errorf("replay of the parent did not converge on the current token")
	}

	// The chain goes on from the current token, and the session was never revoked.
	MustTokens(t, e.Refresh(t, third))
	if s := e.Sessions(t, u.ID); len(s) != 1 || !s[0].RevokedAt.IsZero() {
		t.Errorf("stored sessions = %+v, want one live session", s)
	}
}

// TestRestart checks that tokens outlive the process: keys and secrets are stored.
func TestRestart(t *testing.T) {
	e := MustStartEnv(t)
	e.MustCreateUser(t, testUser, "")
	tok := e.MustLogin(t, testUser)
	jwks := e.Get(t, "/.well-known/jwks.json", "").body
	e.Close()

	// A new process on the same file, a minute later.
	e.clock.Advance(time.Minute)
	e = MustOpenEnv(t, envOptions{path: e.path, clock: e.clock})

	if got := e.Get(t, "/.well-known/jwks.json", "").body; string(got) != string(jwks) {
		t.Errorf("JWKS changed across a restart:\n got %s\nwant %s", got, jwks)
	}
	if res := e.Get(t, "/auth/me", tok.AccessToken); res.status != http.StatusOK {
		t.Errorf("old access token after restart: status %d, body %s", res.status, res.body)
	}
	MustTokens(t, e.Refresh(t, tok.RefreshToken))
}
