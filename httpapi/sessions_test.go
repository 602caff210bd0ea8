package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/gatepass/gatepass"
	"github.com/google/go-cmp/cmp"
)

// sessionJSON is one entry of GET /auth/sessions.
type sessionJSON struct {
	ID         string `json:"id"`
	UserAgent  string `json:"user_agent"`
	IPAddress  string `json:"ip_address"`
	CreatedAt  string `json:"created_at"`
	LastUsedAt string `json:"last_used_at"`
	ExpiresAt  string `json:"expires_at"`
	Current    bool   `json:"current"`
}

// mustListSessions lists sessions with the given header, failing unless 200.
func (e *testEnv) mustListSessions(tb testing.TB, h http.Header) []sessionJSON {
	tb.Helper()
	res := e.Do(tb, http.MethodGet, "/auth/sessions", "", "", h)
	if res.status != http.StatusOK {
		tb.Fatalf("GET /auth/sessions: status %d, body %s", res.status, res.body)
	}
	var body struct {
		Sessions []sessionJSON `json:"sessions"`
	}
	if err := json.Unmarshal(res.body, &body); err != nil {
		tb.Fatalf("sessions %s: %v", res.body, err)
	}
	return body.Sessions
}

// bearer returns a header with an access token.
func bearer(tok string) http.Header {
	return http.Header{"Authorization": {"Bearer " + tok}}
}

// TestSessions lists sessions with either credential and ends them one by one.
func TestSessions(t *testing.T) {
	e := MustStartEnv(t)
	u := e.MustCreateUser(t, testUser, "")
	bobUser := e.MustCreateUser(t, "bob", "")

	// Three sessions a minute apart, one in cookie mode, and one of bob's.
	first := e.MustLogin(t, testUser)
	e.clock.Advance(time.Minute)
	cs := e.MustCookieLogin(t, testUser)
	e.clock.Advance(time.Minute)
	third := e.MustLogin(t, testUser)
	bob := e.MustLogin(t, "bob")
	bobSession := e.Sessions(t, bobUser.ID)[0].ID

	// Newest first, the caller's marked current, times in RFC 3339.
	stored := e.Sessions(t, u.ID)
	var want []sessionJSON
	for _, s := range stored {
		want = append(want, sessionJSON{ID: s.ID, UserAgent: "Go-http-client/1.1",
			IPAddress: "127.0.0.1", CreatedAt: s.CreatedAt.Format(time.RFC3339),
			LastUsedAt: s.LastUsedAt.Format(time.RFC3339),
			ExpiresAt:  s.ExpiresAt.Format(time.RFC3339), Current: s.ID == cs.body.SessionID})
	}
	if want[0].CreatedAt != startTime.Add(2*time.Minute).Format(time.RFC3339) ||
		want[1].ID != cs.body.SessionID {
		t.Fatalf("stored sessions are not newest first: %+v", want)
	}
	got := e.mustListSessions(t, http.Header{"Cookie": {cs.Cookies()}})
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("sessions by cookie (-got +want):\n%s", diff)
	}
	got = e.mustListSessions(t, bearer(third.AccessToken))
	if !got[0].Current || got[1].Current || got[2].Current {
		t.Errorf("sessions by bearer: current marks %v %v %v", got[0].Current,
			got[1].Current, got[2].Current)
	}

	// End the first session with a bearer token.
	res := e.Do(t, http.MethodDelete, "/auth/sessions/"+stored[2].ID, "", "",
		bearer(third.AccessToken))
	if res.status != http.StatusOK || string(res.body) != "{}\n" {
		t.Errorf("DELETE own session: status %d, body %s", res.status, res.body)
	}
	if len(e.mustListSessions(t, bearer(third.AccessToken))) != 2 {
		t.Errorf("the deleted session is still listed")
	}
	wantError(t, e.Get(t, "/auth/me", first.AccessToken), http.StatusUnauthorized,
		"invalid_token")

	// Bob's session and an unknown id look alike: 404, and nothing changes.
	for _, id := range []string{bobSession, "no-such-session"} {
		res := e.Do(t, http.MethodDelete, "/auth/sessions/"+id, "", "",
			bearer(third.AccessToken))
		wantError(t, res, http.StatusNotFound, "not_found")
		if got := res.String(t, "error_description"); got != "session not found" {
			t.Errorf("error_description = %q", got)
		}
	}
	if !e.SessionByID(t, bobSession).RevokedAt.IsZero() {
		t.Errorf("bob's session was revoked")
	}
	if res := e.Get(t, "/auth/me", bob.AccessToken); res.status != http.StatusOK {
		t.Errorf("bob was signed out: %d", res.status)
	}

	// With cookies (and the CSRF token) end the third session, then the cookie's
	// own, which also clears the cookies.
	res = e.Do(t, http.MethodDelete, "/auth/sessions/"+stored[0].ID, "", "", cs.Header())
	if res.status != http.StatusOK || len(res.header.Values("Set-Cookie")) != 0 {
		t.Errorf("DELETE other session by cookie: status %d, cookies %q", res.status,
			res.header.Values("Set-Cookie"))
	}
	res = e.Do(t, http.MethodDelete, "/auth/sessions/"+cs.body.SessionID, "", "",
		cs.Header())
	if res.status != http.StatusOK {
		t.Errorf("DELETE current session by cookie: status %d", res.status)
	}
	checkCleared(t, res, false)
	fresh := e.MustLogin(t, testUser)
	if got := e.mustListSessions(t, bearer(fresh.AccessToken)); len(got) != 1 {
		t.Errorf("%d sessions left, want only the new one", len(got))
	}

	// A bearer caller ending its own session leaves the browser's cookies alone:
	// they belong to another session.
	browser := e.MustCookieLogin(t, testUser)
	h := bearer(fresh.AccessToken)
	h.Set("Cookie", browser.Cookies())
	res = e.Do(t, http.MethodDelete, "/auth/sessions/"+sidOf(t, e, fresh.AccessToken), "",
		"", h)
	if res.status != http.StatusOK || len(res.header.Values("Set-Cookie")) != 0 {
		t.Errorf("DELETE current session by bearer: status %d, cookies %q", res.status,
			res.header.Values("Set-Cookie"))
	}

	// A token of an ended session can neither list nor end sessions.
	wantError(t, e.Get(t, "/auth/sessions", third.AccessToken), http.StatusUnauthorized,
		"invalid_token")
	wantError(t, e.Do(t, http.MethodDelete, "/auth/sessions/"+bobSession, "", "",
		bearer(third.AccessToken)), http.StatusUnauthorized, "invalid_token")
	wantError(t, e.Get(t, "/auth/sessions", ""), http.StatusUnauthorized, "unauthorized")
}

// TestLogoutScopesBearer ends sessions through POST /auth/logout with bearer
// tokens: others, then global, then local of a fresh session.
func TestLogoutScopesBearer(t *testing.T) {
	e := MustStartEnv(t)
	u := e.MustCreateUser(t, testUser, "")
	a, b, c := e.MustLogin(t, testUser), e.MustLogin(t, testUser),
		e.MustCookieLogin(t, testUser)

	// others: every session but the caller's; no cookie is touched.
	res := e.Do(t, http.MethodPost, "/auth/logout?scope=others", "", "", bearer(a.AccessToken))
	if res.status != http.StatusOK || string(res.body) != "{}\n" ||
		len(res.header.Values("Set-Cookie")) != 0 {
		t.Fatalf("logout others: status %d, body %s, cookies %q", res.status, res.body,
			res.header.Values("Set-Cookie"))
	}
	wantLive(t, e, u.ID, map[string]bool{sidOf(t, e, a.AccessToken): true})
	wantError(t, e.Get(t, "/auth/me", b.AccessToken), http.StatusUnauthorized,
		"invalid_token")
	wantError(t, e.Do(t, http.MethodPost, "/auth/refresh", "", "", c.Header()),
		http.StatusUnauthorized, "invalid_grant")

	// A token of an ended session cannot sign the user out everywhere.
	d := e.MustLogin(t, testUser)
	res = e.Do(t, http.MethodPost, "/auth/logout?scope=global", "", "", bearer(b.AccessToken))
	wantError(t, res, http.StatusUnauthorized, "invalid_token")
	wantLive(t, e, u.ID, map[string]bool{sidOf(t, e, a.AccessToken): true,
		sidOf(t, e, d.AccessToken): true})

	// global: all of them, the caller's too.
	res = e.Do(t, http.MethodPost, "/auth/logout?scope=global", "", "", bearer(a.AccessToken))
	if res.status != http.StatusOK {
		t.Fatalf("logout global: status %d, body %s", res.status, res.body)
	}
	checkCleared(t, res, false)
	wantLive(t, e, u.ID, map[string]bool{})

	// local (the default): only the caller's.
	f, g := e.MustLogin(t, testUser), e.MustLogin(t, testUser)
	res = e.Do(t, http.MethodPost, "/auth/logout", "", "", bearer(f.AccessToken))
	if res.status != http.StatusOK {
		t.Fatalf("logout local: status %d, body %s", res.status, res.body)
	}
	wantLive(t, e, u.ID, map[string]bool{sidOf(t, e, g.AccessToken): true})

	// Refused: no credential, a bad token, an unknown scope.
	wantError(t, e.Do(t, http.MethodPost, "/auth/logout", "", "", nil),
		http.StatusUnauthorized, "unauthorized")
	wantError(t, e.Do(t, http.MethodPost, "/auth/logout", "", "", bearer("garbage")),
		http.StatusUnauthorized, "invalid_token")
	res = e.Do(t, http.MethodPost, "/auth/logout?scope=everywhere", "", "",
		bearer(g.AccessToken))
	wantError(t, res, http.StatusBadRequest, "invalid_request")
	if got := res.JSON(t)["fields"]; !cmp.Equal(got,
		map[string]any{"scope": "scope must be local, others or global"}) {
		t.Errorf("fields = %v", got)
	}
	wantLive(t, e, u.ID, map[string]bool{sidOf(t, e, g.AccessToken): true})
}

// TestLogoutScopesCookie ends sessions through POST /auth/logout with cookies.
func TestLogoutScopesCookie(t *testing.T) {
	e := MustStartEnv(t)
	u := e.MustCreateUser(t, testUser, "")

	// others keeps the caller's session and its cookies.
	a := e.MustCookieLogin(t, testUser)
	e.MustCookieLogin(t, testUser)
	res := e.Do(t, http.MethodPost, "/auth/logout?scope=others", "", "", a.Header())
	if res.status != http.StatusOK || len(res.header.Values("Set-Cookie")) != 0 {
		t.Fatalf("logout others: status %d, cookies %q", res.status,
			res.header.Values("Set-Cookie"))
	}
	wantLive(t, e, u.ID, map[string]bool{a.body.SessionID: true})

	// local ends it and clears the cookies.
	res = e.Do(t, http.MethodPost, "/auth/logout?scope=local", "", "", a.Header())
	if res.status != http.StatusOK {
		t.Fatalf("logout local: status %d, body %s", res.status, res.body)
	}
	checkCleared(t, res, false)
	wantLive(t, e, u.ID, map[string]bool{})

	// global from a second browser ends everything.
	e.MustCookieLogin(t, testUser)
	b := e.MustCookieLogin(t, testUser)
	res = e.Do(t, http.MethodPost, "/auth/logout?scope=global", "", "", b.Header())
	if res.status != http.StatusOK {
		t.Fatalf("logout global: status %d, body %s", res.status, res.body)
	}
	checkCleared(t, res, false)
	wantLive(t, e, u.ID, map[string]bool{})

	// With the access cookie expired, the refresh cookie still ends the session
	// locally, whether the browser dropped the access cookie or still sends it.
	gone, sent := e.MustCookieLogin(t, testUser), e.MustCookieLogin(t, testUser)
	e.clock.Advance(20 * time.Minute)
	goneHeader := gone.Header()
	goneHeader.Set("Cookie", gone.names.refresh+"="+gone.refresh+"; "+
		gone.names.csrf+"="+gone.csrf)
	for _, tt := range []struct {
		cs cookieSession
		h  http.Header
	}{{gone, goneHeader}, {sent, sent.Header()}} {
		cs, h := tt.cs, tt.h

		// others and global need a live access token: refuse, keep the cookies.
		res := e.Do(t, http.MethodPost, "/auth/logout?scope=global", "", "", h)
		if res.status != http.StatusUnauthorized || len(res.header.Values("Set-Cookie")) != 0 {
			t.Errorf("global with expired access: status %d, cookies %q", res.status,
				res.header.Values("Set-Cookie"))
		}
		res = e.Do(t, http.MethodPost, "/auth/logout", "", "", h)
		if res.status != http.StatusOK {
			t.Errorf("local with refresh cookie: status %d, body %s", res.status, res.body)
		}
		checkCleared(t, res, false)
		if e.SessionByID(t, cs.body.SessionID).RevokedAt.IsZero() {
			t.Errorf("the session of the refresh cookie is live")
		}
	}
}

// wantLive checks which of the user's sessions are alive.
func wantLive(tb testing.TB, e *testEnv, userID int64, want map[string]bool) {
	tb.Helper()
	got := map[string]bool{}
	for _, s := range e.Sessions(tb, userID) {
		if s.RevokedAt.IsZero() {
			got[s.ID] = true
		}
	}
	if diff := cmp.Diff(got, want); diff != "" {
		tb.Errorf("live sessions (-got +want):\n%s", diff)
	}
}

// sidOf returns the session id in an access token.
func sidOf(tb testing.TB, e *testEnv, access string) string {
	tb.Helper()
	c, err := e.svc.VerifyAccessToken(access)
	if err != nil {
		tb.Fatalf("verify: %v", err)
	}
	return c.SessionID
}

// TestMeRevokedSession checks that an access token that still verifies is
// refused by /auth/me once its session is revoked, by bearer and by cookie.
func TestMeRevokedSession(t *testing.T) {
	e := MustStartEnv(t)
	e.MustCreateUser(t, testUser, "")
	tok := e.MustLogin(t, testUser)
	cs := e.MustCookieLogin(t, testUser)

	for _, sid := range []string{sidOf(t, e, tok.AccessToken), cs.body.SessionID} {
		if err := e.svc.RevokeSession(context.Background(), sid,
			gatepass.RevokeAdmin); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Fatalf("the token no longer verifies locally: %v", err)
	}

	for name, h := range map[string]http.Header{
		"bearer": bearer(tok.AccessToken),
		"cookie": {"Cookie": {cs.Cookies()}},
	} {
		res := e.Do(t, http.MethodGet, "/auth/me", "", "", h)
		wantError(t, res, http.StatusUnauthorized, "invalid_token")
		if got := res.header.Get("WWW-Authenticate"); got == "" {
			t.Errorf("%s: no WWW-Authenticate challenge", name)
		}
	}
}
