package httpapi_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatepass/gatepass"
	"github.com/google/go-cmp/cmp"
)

// cookieAttrs are the attributes of one Set-Cookie line that matter.
type cookieAttrs struct {
	Name     string
	Path     string
	Domain   string
	MaxAge   int
	Secure   bool
	HttpOnly bool
	SameSite http.SameSite
}

// attrsOf projects parsed cookies onto their attributes.
func attrsOf(cookies []*http.Cookie) []cookieAttrs {
	var got []cookieAttrs
	for _, c := range cookies {
		got = append(got, cookieAttrs{Name: c.Name, Path: c.Path, Domain: c.Domain,
			MaxAge: c.MaxAge, Secure: c.Secure, HttpOnly: c.HttpOnly, SameSite: c.SameSite})
	}
	return got
}

// wantSessionCookies lists the cookies a sign-in or refresh sets, in order, with
// the default lifetimes: 15 minutes for the access token, 7 days for the rest.
func wantSessionCookies(insecure bool) []cookieAttrs {
	n := namesFor(insecure)
	secure := !insecure
	const week = 7 * 24 * 60 * 60
	return []cookieAttrs{
		{Name: n.access, Path: "/", MaxAge: 900, Secure: secure, HttpOnly: true,
			SameSite: http.SameSiteLaxMode},
		{Name: n.refresh, Path: "/auth/refresh", MaxAge: week, Secure: secure,
			HttpOnly: true, SameSite: http.SameSiteStrictMode},
		{Name: n.refresh, Path: "/auth/logout", MaxAge: week, Secure: secure,
			HttpOnly: true, SameSite: http.SameSiteStrictMode},
		{Name: n.csrf, Path: "/", MaxAge: week, Secure: secure,
			SameSite: http.SameSiteStrictMode},
	}
}

// wantClearedCookies lists the cookies that sign a browser out: the same names,
// paths and attributes, with Max-Age=0 (parsed as -1) and no value.
func wantClearedCookies(insecure bool) []cookieAttrs {
	want := wantSessionCookies(insecure)
	for i := range want {
		want[i].MaxAge = -1
	}
	return want
}

// checkCleared fails unless r expires every session cookie, uncached.
func checkCleared(tb testing.TB, r *response, insecure bool) {
	tb.Helper()
	cookies := setCookies(tb, r)
	if diff := cmp.Diff(attrsOf(cookies), wantClearedCookies(insecure)); diff != "" {
		tb.Errorf("cleared cookies (-got +want):\n%s", diff)
	}
	for _, c := range cookies {
		if c.Value != "" {
			tb.Errorf("cleared cookie %s keeps a value", c.Name)
		}
	}
	if got := r.header.Get("Cache-Control"); got != "no-store" {
		tb.Errorf("Cache-Control = %q, want no-store", got)
	}
}

var csrfTokenPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// TestCookieAttributes checks every attribute of every cookie that sign-in and
// refresh set, with Secure and without, from the raw Set-Cookie headers.
func TestCookieAttributes(t *testing.T) {
	for _, insecure := range []bool{false, true} {
		name := map[bool]string{false: "secure", true: "insecure"}[insecure]
		t.Run(name, func(t *testing.T) {
			e := MustOpenEnv(t, envOptions{insecureCookies: insecure})
			u := e.MustCreateUser(t, testUser, testEmail)

			// Sign in.
			res := e.CookieLogin(t, testUser, testPassword, nil)
			first := e.MustCookieSession(t, res, http.StatusOK)
			checkSessionAnswer(t, e, res, first, u.ID)

			// An hour later, refresh: every cookie is set anew, with the full
			// lifetimes again; the tokens are fresh and the CSRF token is the
			// session's, so other tabs holding it keep working.
			e.clock.Advance(time.Hour)
			res = e.Do(t, http.MethodPost, "/auth/refresh", "", "", first.Header())
			second := e.MustCookieSession(t, res, http.StatusOK)
			checkSessionAnswer(t, e, res, second, u.ID)
			if second.access == first.access || second.refresh == first.refresh {
				t.Errorf("refresh kept a token")
			}
			if second.csrf != first.csrf || second.body.CSRFToken != first.csrf {
				t.Errorf("refresh changed the session's CSRF token")
			}
			if second.body.SessionID != first.body.SessionID {
				t.Errorf("refresh changed the session")
			}
		})
	}
}

// checkSessionAnswer checks a sign-in or refresh answer: the cookies, the body,
// and that no token is in the body or may be cached.
func checkSessionAnswer(t *testing.T, e *testEnv, res *response, cs cookieSession,
	userID int64) {
	t.Helper()
	insecure := e.api.InsecureCookies
	cookies := setCookies(t, res)
	if diff := cmp.Diff(attrsOf(cookies), wantSessionCookies(insecure)); diff != "" {
		t.Errorf("cookies (-got +want):\n%s", diff)
	}
	for _, line := range res.header.Values("Set-Cookie") {
		if strings.Contains(strings.ToLower(line), "domain") {
			t.Errorf("Set-Cookie %q has a Domain", line)
		}
		if got := strings.Contains(line, "; Secure"); got == insecure {
			t.Errorf("Set-Cookie %q: Secure = %v, want %v", line, got, !insecure)
		}
	}
	if cookies[1].Value != cookies[2].Value {
		t.Errorf("the two refresh cookies differ")
	}
	if !csrfTokenPattern.MatchString(cs.csrf) || cs.body.CSRFToken != cs.csrf {
		t.Errorf("CSRF cookie %q, csrf_token %q", cs.csrf, cs.body.CSRFToken)
	}

	// The body describes the session and the user, and holds no token.
	var want sessionBody
	want.ExpiresIn, want.Scope, want.CSRFToken = 900, "profile email", cs.csrf
	want.SessionID = e.Sessions(t, userID)[0].ID
	want.User.UserID, want.User.Username, want.User.Email = "1", testUser, testEmail
	if diff := cmp.Diff(cs.body, want); diff != "" {
		t.Errorf("body (-got +want):\n%s", diff)
	}
	body := string(res.body)
	if strings.Contains(body, cs.access) || strings.Contains(body, cs.refresh) ||
		strings.Contains(body, "access_token") || strings.Contains(body, "refresh_token") {
		t.Errorf("the body holds a token: %s", body)
	}
	if got := res.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}
}

// TestCookieFlow walks a browser through sign-in, expiry, refresh and sign-out
// with a real cookie jar, which applies the cookies' paths and lifetimes.
func TestCookieFlow(t *testing.T) {
	e := MustOpenEnv(t, envOptions{insecureCookies: true})
	u := e.MustCreateUser(t, testUser, testEmail)
	b := e.NewBrowser(t)
	n := namesFor(true)

	// Sign in with a JSON body.
	res := b.Do(t, http.MethodPost, "/auth/login", jsonType,
		`{"username":"alice","password":"correct horse battery"}`, nil)
	if res.status != http.StatusOK {
		t.Fatalf("sign-in: status %d, body %s", res.status, res.body)
	}
	sid := res.JSON(t)["session_id"].(string)

	// The access cookie authenticates /auth/me; the refresh cookie is not sent.
	res = b.Do(t, http.MethodGet, "/auth/me", "", "", nil)
	if res.status != http.StatusOK || res.String(t, "username") != testUser ||
		res.String(t, "session_id") != sid {
		t.Fatalf("GET /auth/me by cookie: status %d, body %s", res.status, res.body)
	}
	if diff := cmp.Diff(e.seen.last(t, "/auth/me"), []string{n.access, n.csrf},
		sortStrings); diff != "" {
		t.Errorf("cookies sent to /auth/me (-got +want):\n%s", diff)
	}

	// Past the access lifetime the cookie no longer works.
	e.clock.Advance(16 * time.Minute)
	res = b.Do(t, http.MethodGet, "/auth/me", "", "", nil)
	wantError(t, res, http.StatusUnauthorized, "invalid_token")

	// A refresh with the CSRF header rotates every cookie; the refresh cookie
	// goes to /auth/refresh, and only there.
	oldRefresh := b.Cookie(t, n.refresh, "/auth/refresh")
	res = b.Post(t, "/auth/refresh")
	if res.status != http.StatusOK {
		t.Fatalf("refresh: status %d, body %s", res.status, res.body)
	}
	if !slices.Contains(e.seen.last(t, "/auth/refresh"), n.refresh) {
		t.Errorf("the refresh cookie did not reach /auth/refresh")
	}
	if got := b.Cookie(t, n.refresh, "/auth/logout"); got == oldRefresh || got == "" {
		t.Errorf("the refresh cookie of /auth/logout was not rotated")
	}
	if rt := e.RefreshToken(t, oldRefresh); rt.UsedAt.IsZero() {
		t.Errorf("the old refresh token is unused after the refresh")
	}
	res = b.Do(t, http.MethodGet, "/auth/me", "", "", nil)
	if res.status != http.StatusOK {
		t.Errorf("GET /auth/me after refresh: status %d, body %s", res.status, res.body)
	}

	// Sign out: the jar is emptied and the session revoked.
	res = b.Post(t, "/auth/logout")
	if res.status != http.StatusOK || string(res.body) != "{}\n" {
		t.Fatalf("logout: status %d, body %s", res.status, res.body)
	}
	checkCleared(t, res, true)
	for _, path := range []string{"/", "/auth/refresh", "/auth/logout"} {
		u, _ := url.Parse(e.srv.URL + path)
		if got := b.jar.Cookies(u); len(got) != 0 {
			t.Errorf("cookies left for %s after logout: %v", path, got)
		}
	}
	if sess := e.SessionByID(t, sid); sess.RevokedAt.IsZero() ||
		sess.RevokeReason != gatepass.RevokeLogout {
		t.Errorf("session after logout: revoked at %v, reason %q", sess.RevokedAt,
			sess.RevokeReason)
	}
	wantError(t, b.Do(t, http.MethodGet, "/auth/me", "", "", nil),
		http.StatusUnauthorized, "unauthorized")
	if len(e.Sessions(t, u.ID)) != 1 {
		t.Errorf("sessions were created along the way")
	}
}

// sortStrings compares string slices as sets.
var sortStrings = cmp.Transformer("sort", func(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
})

// TestCookieRefreshRefused checks that a refresh without a usable refresh cookie
// is 401 invalid_grant and clears the cookies.
func TestCookieRefreshRefused(t *testing.T) {
	e := MustStartEnv(t)
	e.MustCreateUser(t, testUser, "")
	cs := e.MustCookieLogin(t, testUser)
	n := cs.names

	tests := []struct {
		name   string
		cookie string
	}{{
		name:   "no-refresh-cookie",
		cookie: n.access + "=" + cs.access + "; " + n.csrf + "=" + cs.csrf,
	}, {
		name:   "empty-refresh-cookie",
		cookie: n.refresh + "=; " + n.csrf + "=" + cs.csrf,
	}, {
		name:   "garbage",
		cookie: n.refresh + "=garbage; " + n.csrf + "=" + cs.csrf,
	}, {
		name:   "access-token-as-refresh",
		cookie: n.refresh + "=" + cs.access + "; " + n.csrf + "=" + cs.csrf,
	}, {
		name:   "unprefixed-name",
		cookie: "gatepass_refresh=" + cs.refresh + "; " + n.csrf + "=" + cs.csrf,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{"Cookie": {tt.cookie}, "X-Csrf-Token": {cs.csrf}}
			res := e.Do(t, http.MethodPost, "/auth/refresh", "", "", h)
			wantError(t, res, http.StatusUnauthorized, "invalid_grant")
			checkCleared(t, res, false)
		})
	}

	// A first visit, with no cookie and so no CSRF token, learns it is signed out.
	res := e.Do(t, http.MethodPost, "/auth/refresh", "", "", nil)
	wantError(t, res, http.StatusUnauthorized, "invalid_grant")

	// Another site's request is refused as forged and clears nothing.
	res = e.Do(t, http.MethodPost, "/auth/refresh", "", "", http.Header{
		"Cookie": {n.access + "=" + cs.access}, "Origin": {"https://evil.example"}})
	wantError(t, res, http.StatusForbidden, "invalid_request")
	if got := res.header.Values("Set-Cookie"); len(got) != 0 {
		t.Errorf("a foreign origin's refresh set cookies: %q", got)
	}

	// The real cookie was never touched and still works.
	res = e.Do(t, http.MethodPost, "/auth/refresh", "", "", cs.Header())
	if res.status != http.StatusOK {
		t.Errorf("refresh with the real cookie: status %d, body %s", res.status, res.body)
	}

	// Used again after the reuse interval it is theft: refused, cookies cleared.
	e.clock.Advance(time.Minute)
	res = e.Do(t, http.MethodPost, "/auth/refresh", "", "", cs.Header())
	wantError(t, res, http.StatusUnauthorized, "invalid_grant")
	checkCleared(t, res, false)
}

// TestCookieLoginErrors checks that /auth/login fails exactly as the password
// grant does, and sets no cookie when it fails.
func TestCookieLoginErrors(t *testing.T) {
	e := MustStartEnv(t)
	e.MustCreateUser(t, testUser, "")

	tests := []struct {
		name        string
		contentType string
		body        string
		wantStatus  int
		wantError   string
	}{
		{name: "wrong-password", contentType: formType,
			body: "username=alice&password=wrong", wantStatus: 400, wantError: "invalid_grant"},
		{name: "unknown-user", contentType: jsonType,
			body:       `{"username":"mallory","password":"correct horse battery"}`,
			wantStatus: 400, wantError: "invalid_grant"},
		{name: "missing-password", contentType: formType, body: "username=alice",
			wantStatus: 400, wantError: "invalid_request"},
		{name: "bad-scope", contentType: formType,
			body:       "username=alice&password=correct+horse+battery&scope=admin",
			wantStatus: 400, wantError: "invalid_scope"},
		{name: "client-secret", contentType: formType,
			body:       "username=alice&password=correct+horse+battery&client_secret=s",
			wantStatus: 401, wantError: "invalid_client"},
		{name: "text-body", contentType: "text/plain", body: "username=alice",
			wantStatus: 415, wantError: "invalid_request"},
		{name: "repeated", contentType: formType,
			body: "username=alice&username=bob", wantStatus: 400, wantError: "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.Do(t, http.MethodPost, "/auth/login", tt.contentType, tt.body, nil)
			wantError(t, res, tt.wantStatus, tt.wantError)
			if got := res.header.Values("Set-Cookie"); len(got) != 0 {
				t.Errorf("a failed sign-in set cookies: %q", got)
			}
		})
	}

	// The token endpoint answers the same.
	tok := e.Login(t, testUser, "wrong")
	cookie := e.Do(t, http.MethodPost, "/auth/login", formType,
		"username=alice&password=wrong", nil)
	if string(tok.body) != string(cookie.body) || tok.status != cookie.status {
		t.Errorf("token endpoint %d %s, cookie endpoint %d %s", tok.status, tok.body,
			cookie.status, cookie.body)
	}

	// A client id and a narrower scope are honoured; HTTP Basic, which a browser
	// sends on its own to a password-protected site, is ignored.
	h := http.Header{"Authorization": {basicAuth("staging", "site-password")}}
	res := e.Do(t, http.MethodPost, "/auth/login", formType, url.Values{
		"username": {testUser}, "password": {testPassword}, "scope": {"email"},
		"client_id": {"spa"}}.Encode(), h)
	cs := e.MustCookieSession(t, res, http.StatusOK)
	if cs.body.Scope != "email" {
		t.Errorf("scope = %q, want email", cs.body.Scope)
	}
	me := e.Get(t, "/auth/me", cs.access)
	if me.String(t, "client_id") != "spa" {
		t.Errorf("client_id = %q, want spa", me.String(t, "client_id"))
	}
}

// TestAccessCookieAndBearer checks which credential authenticates a request that
// carries both, and that other Authorization schemes leave the cookie in charge.
func TestAccessCookieAndBearer(t *testing.T) {
	e := MustStartEnv(t)
	e.MustCreateUser(t, testUser, "")
	e.MustCreateUser(t, "bob", "")
	cs := e.MustCookieLogin(t, testUser)
	bob := e.MustLogin(t, "bob")

	// The bearer token wins over the cookie.
	h := http.Header{"Cookie": {cs.Cookies()}, "Authorization": {"Bearer " + bob.AccessToken}}
	res := e.Do(t, http.MethodGet, "/auth/me", "", "", h)
	if res.String(t, "username") != "bob" {
		t.Errorf("bearer and cookie: status %d, body %s", res.status, res.body)
	}

	// A bad bearer token is refused, even with a good cookie beside it.
	h.Set("Authorization", "Bearer garbage")
	wantError(t, e.Do(t, http.MethodGet, "/auth/me", "", "", h), http.StatusUnauthorized,
		"invalid_token")

	// HTTP Basic is not an access token: the cookie decides.
	h.Set("Authorization", basicAuth("staging", "site-password"))
	res = e.Do(t, http.MethodGet, "/auth/me", "", "", h)
	if res.String(t, "username") != testUser {
		t.Errorf("basic and cookie: status %d, body %s", res.status, res.body)
	}

	// A garbage access cookie is an invalid token.
	h = http.Header{"Cookie": {cs.names.access + "=garbage"}}
	wantError(t, e.Do(t, http.MethodGet, "/auth/me", "", "", h), http.StatusUnauthorized,
		"invalid_token")
}

// TestCookieLoginEndsReplacedSession: signing in again in the same browser ends
// the session whose cookies the new ones replace.
func TestCookieLoginEndsReplacedSession(t *testing.T) {
	e := MustStartEnv(t)
	e.MustCreateUser(t, testUser, "")
	first := e.MustCookieLogin(t, testUser)

	h := http.Header{"Cookie": {first.Cookies()}}
	res := e.Do(t, http.MethodPost, "/auth/login", "application/x-www-form-urlencoded",
		"username="+testUser+"&password="+testPassword, h)
	second := e.MustCookieSession(t, res, http.StatusOK)

	res = e.Do(t, http.MethodPost, "/auth/refresh", "", "", first.Header())
	wantError(t, res, http.StatusUnauthorized, "invalid_grant")
	res = e.Do(t, http.MethodPost, "/auth/refresh", "", "", second.Header())
	if res.status != http.StatusOK {
		t.Errorf("the new session does not refresh: %d %s", res.status, res.body)
	}
}
