package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The error descriptions of the two CSRF checks.
const (
	originFailed = "origin check failed"
	tokenFailed  = "csrf token check failed"
)

// TestCSRFRefused sends forged-looking cookie requests to every state-changing
// endpoint and checks that each is refused with 403 and changes nothing: every
// session as it was, the refresh token still unused.
func TestCSRFRefused(t *testing.T) {
	e := MustStartEnv(t)
	u := e.MustCreateUser(t, testUser, "")
	cs := e.MustCookieLogin(t, testUser)
	other := e.MustCookieLogin(t, testUser)
	n := cs.names
	before := e.Sessions(t, u.ID)

	endpoints := []struct {
		name, method, path string
		cookie             string
	}{
		{name: "refresh", method: http.MethodPost, path: "/auth/refresh",
			cookie: cs.Cookies()},
		{name: "logout", method: http.MethodPost, path: "/auth/logout?scope=global",
			cookie: cs.Cookies()},
		{name: "logout-refresh-cookie-only", method: http.MethodPost,
			path:   "/auth/logout",
			cookie: n.refresh + "=" + cs.refresh + "; " + n.csrf + "=" + cs.csrf},
		{name: "delete-session", method: http.MethodDelete,
			path: "/auth/sessions/" + other.body.SessionID, cookie: cs.Cookies()},
	}
	attacks := []struct {
		name     string
		header   http.Header
		cookie   func(string) string
		wantDesc string
	}{
		{name: "missing-token", header: http.Header{}, wantDesc: tokenFailed},
		{name: "empty-token", header: http.Header{"X-Csrf-Token": {""}},
			wantDesc: tokenFailed},
		{name: "wrong-token", header: http.Header{"X-Csrf-Token": {strings.Repeat("A", 43)}},
			wantDesc: tokenFailed},
		{name: "missing-cookie", header: http.Header{"X-Csrf-Token": {cs.csrf}},
			cookie:   func(c string) string { return strings.Replace(c, n.csrf, "other", 1) },
			wantDesc: tokenFailed},
		{name: "foreign-origin", header: http.Header{"X-Csrf-Token": {cs.csrf},
			"Origin": {"https://evil.example"}}, wantDesc: originFailed},
		{name: "null-origin", header: http.Header{"X-Csrf-Token": {cs.csrf},
			"Origin": {"null"}}, wantDesc: originFailed},
		{name: "issuer-over-http", header: http.Header{"X-Csrf-Token": {cs.csrf},
			"Origin": {"http://id.example.test"}}, wantDesc: originFailed},
		{name: "cross-site-fetch", header: http.Header{"X-Csrf-Token": {cs.csrf},
			"Sec-Fetch-Site": {"cross-site"}}, wantDesc: originFailed},
		{name: "same-site-fetch", header: http.Header{"X-Csrf-Token": {cs.csrf},
			"Sec-Fetch-Site": {"same-site"}}, wantDesc: originFailed},
	}
	for _, ep := range endpoints {
		for _, at := range attacks {
			t.Run(ep.name+"/"+at.name, func(t *testing.T) {
				h := at.header.Clone()
				h.Set("Cookie", ep.cookie)
				if at.cookie != nil {
					h.Set("Cookie", at.cookie(ep.cookie))
				}
				res := e.Do(t, ep.method, ep.path, "", "", h)
				wantError(t, res, http.StatusForbidden, "invalid_request")
				if got := res.String(t, "error_description"); !strings.HasPrefix(got,
					at.wantDesc) {
					t.Errorf("error_description = %q, want %q...", got, at.wantDesc)
				}
				if got := res.header.Values("Set-Cookie"); len(got) != 0 {
					t.Errorf("a refused request set cookies: %q", got)
				}

				// Nothing changed in the database.
				if diff := cmp.Diff(e.Sessions(t, u.ID), before); diff != "" {
					t.Errorf("sessions changed (-got +want):\n%s", diff)
				}
				if rt := e.RefreshToken(t, cs.refresh); !rt.UsedAt.IsZero() {
					t.Errorf("the refresh token was used")
				}
			})
		}
	}

	// The log says why, without the cookie.
	logs := e.logs.String()
	if !strings.Contains(logs, `level=WARN msg="cross-site request refused" `+
		`component=httpapi reason=foreign_origin route="POST /auth/refresh" `+
		`origin=https://evil.example`) {
		t.Errorf("the log lacks the refused request:\n%s", logs)
	}
	if strings.Contains(logs, cs.csrf) || strings.Contains(logs, cs.refresh) {
		t.Errorf("the log holds a cookie value")
	}
}

// TestCSRFAllowed checks the requests the CSRF checks must let through: the
// issuer's own origin, a same-origin fetch, a client that names no origin, and
// bearer requests, which carry no ambient credential.
func TestCSRFAllowed(t *testing.T) {
	e := MustStartEnv(t)
	e.MustCreateUser(t, testUser, "")
	cs := e.MustCookieLogin(t, testUser)

	for _, h := range []http.Header{
		{"Origin": {"https://id.example.test"}},
		{"Origin": {"https://id.example.test"}, "Sec-Fetch-Site": {"cross-site"}},
		{"Sec-Fetch-Site": {"same-origin"}},
		{"Sec-Fetch-Site": {"none"}},
		{},
	} {
		for k, v := range cs.Header() {
			h[k] = v
		}
		res := e.Do(t, http.MethodPost, "/auth/refresh", "", "", h)
		cs = e.MustCookieSession(t, res, http.StatusOK)
	}

	// A bearer request needs no CSRF token, whatever its origin.
	victim := e.MustCookieLogin(t, testUser)
	tok := e.MustLogin(t, testUser)
	h := http.Header{"Authorization": {"Bearer " + tok.AccessToken},
		"Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"}}
	res := e.Do(t, http.MethodDelete, "/auth/sessions/"+victim.body.SessionID, "", "", h)
	if res.status != http.StatusOK {
		t.Errorf("bearer DELETE: status %d, body %s", res.status, res.body)
	}

	// Safe methods need no CSRF token with cookies.
	h = http.Header{"Cookie": {cs.Cookies()}, "Origin": {"https://evil.example"}}
	if res := e.Do(t, http.MethodGet, "/auth/sessions", "", "", h); res.status != http.StatusOK {
		t.Errorf("GET /auth/sessions by cookie: status %d, body %s", res.status, res.body)
	}
}

// TestLoginCSRF checks that sign-in and sign-up from another site are refused,
// so no page can sign a visitor into the attacker's account.
func TestLoginCSRF(t *testing.T) {
	e := MustOpenEnv(t, envOptions{signUp: true,
		corsOrigins: []string{"https://app.example.test"}})
	u := e.MustCreateUser(t, testUser, "")

	tests := []struct {
		name       string
		header     http.Header
		wantStatus int
	}{
		{name: "foreign-origin", header: http.Header{"Origin": {"https://evil.example"}},
			wantStatus: http.StatusForbidden},
		{name: "cross-site-fetch", header: http.Header{"Sec-Fetch-Site": {"cross-site"}},
			wantStatus: http.StatusForbidden},
		{name: "issuer-origin", header: http.Header{"Origin": {"https://id.example.test"}},
			wantStatus: http.StatusOK},
		{name: "cors-origin", header: http.Header{"Origin": {"https://app.example.test"}},
			wantStatus: http.StatusOK},
		{name: "no-origin", header: http.Header{}, wantStatus: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(e.Sessions(t, u.ID))
			res := e.CookieLogin(t, testUser, testPassword, tt.header)
			if tt.wantStatus == http.StatusOK {
				e.MustCookieSession(t, res, http.StatusOK)
				return
			}
			wantError(t, res, tt.wantStatus, "invalid_request")
			if got := res.String(t, "error_description"); !strings.HasPrefix(got,
				originFailed) {
				t.Errorf("error_description = %q", got)
			}
			if len(e.Sessions(t, u.ID)) != before {
				t.Errorf("a refused sign-in started a session")
			}
		})
	}

	// Sign-up from another site creates no account.
	res := e.Do(t, http.MethodPost, "/auth/signup", formType,
		"username=mallory&password=a+long+unusual+password",
		http.Header{"Origin": {"https://evil.example"}})
	wantError(t, res, http.StatusForbidden, "invalid_request")
	if res := e.CookieLogin(t, "mallory", "a long unusual password", nil); res.status !=
		http.StatusBadRequest {
		t.Errorf("the refused sign-up created the account: status %d", res.status)
	}
}

// TestForgedWithoutCookies: a cross-site form post carries no cookie (SameSite),
// and is still refused as forged, with 403, before anything else is said.
func TestForgedWithoutCookies(t *testing.T) {
	e := MustStartEnv(t)
	e.MustCreateUser(t, testUser, "")
	cs := e.MustCookieLogin(t, testUser)
	forged := http.Header{"Origin": {"https://evil.example"}}

	for _, req := range []struct{ method, path string }{
		{http.MethodPost, "/auth/refresh"},
		{http.MethodPost, "/auth/logout?scope=global"},
		{http.MethodDelete, "/auth/sessions/" + cs.body.SessionID},
	} {
		res := e.Do(t, req.method, req.path, "", "", forged)
		wantError(t, res, http.StatusForbidden, "invalid_request")
		if got := res.header.Values("Set-Cookie"); len(got) != 0 {
			t.Errorf("%s %s set cookies: %q", req.method, req.path, got)
		}
	}
}

// TestPlantedCookieRefused: a sibling subdomain can plant a second refresh cookie
// with a Domain attribute. With two of a name neither is trusted, so the victim's
// browser can never be switched into the attacker's session.
func TestPlantedCookieRefused(t *testing.T) {
	e := MustStartEnv(t)
	e.MustCreateUser(t, testUser, "")
	e.MustCreateUser(t, "mallory", "")
	victim := e.MustCookieLogin(t, testUser)
	attacker := e.MustCookieLogin(t, "mallory")
	n := victim.names

	h := victim.Header()
	h.Set("Cookie", n.refresh+"="+attacker.refresh+"; "+victim.Cookies())
	res := e.Do(t, http.MethodPost, "/auth/refresh", "", "", h)
	wantError(t, res, http.StatusUnauthorized, "invalid_grant")

	// Neither refresh token was touched: both sessions refresh as before.
	for _, cs := range []cookieSession{victim, attacker} {
		res := e.Do(t, http.MethodPost, "/auth/refresh", "", "", cs.Header())
		if res.status != http.StatusOK {
			t.Errorf("refresh after the planted cookie: %d %s", res.status, res.body)
		}
	}

	// A planted CSRF cookie is no better.
	h = victim.Header()
	h.Set("Cookie", n.csrf+"=planted; "+victim.Cookies())
	res = e.Do(t, http.MethodDelete, "/auth/sessions/"+victim.body.SessionID, "", "", h)
	if res.status != http.StatusForbidden || !strings.Contains(string(res.body), tokenFailed) {
		t.Errorf("delete with a planted CSRF cookie: %d %s", res.status, res.body)
	}
}
