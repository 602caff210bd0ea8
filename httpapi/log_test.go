package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestLogsHoldNoSecrets drives every endpoint, successes and failures, and checks
// that no token, password, secret or query string reaches the log.
func TestLogsHoldNoSecrets(t *testing.T) {
	e := MustOpenEnv(t, envOptions{introspectionSecret: testSecret})
	e.MustCreateUser(t, testUser, "")
	const queryValue = "query-value-that-must-not-be-logged"

	// Sign-in and use, with failures of each kind.
	first := e.MustLogin(t, testUser)
	e.Login(t, testUser, "wrong password")
	e.Login(t, "mallory", testPassword)
	e.Do(t, http.MethodPost, "/oauth/token", jsonType,
		`{"grant_type":"password","username":"alice","password":"correct horse battery"`, nil)
	e.Get(t, "/auth/me", first.AccessToken)
	e.Get(t, "/auth/me", first.RefreshToken)
	e.Get(t, "/healthz?password="+queryValue, "")

	// Refresh, reuse, introspection and revocation.
	second := MustTokens(t, e.Refresh(t, first.RefreshToken))
	e.Introspect(t, second.AccessToken)
	e.Introspect(t, second.RefreshToken)
	e.Do(t, http.MethodPost, "/oauth/introspect", formType, "token="+second.AccessToken,
		http.Header{"Authorization": {basicAuth("rs", "wrong-secret-value")}})
	e.clock.Advance(time.Minute)
	e.Refresh(t, first.RefreshToken)
	third := e.MustLogin(t, testUser)
	e.PostForm(t, "/oauth/revoke?token="+queryValue, url.Values{"token": {third.RefreshToken}})
	e.clock.Advance(time.Hour)
	e.Get(t, "/auth/me", third.AccessToken)

	logs := e.logs.String()
	for name, secret := range map[string]string{
		"first access token":   first.AccessToken,
		"first refresh token":  first.RefreshToken,
		"second access token":  second.AccessToken,
		"second refresh token": second.RefreshToken,
		"third refresh token":  third.RefreshToken,
		"password":             testPassword,
		"wrong password":       "wrong password",
		"introspection secret": testSecret,
		"wrong secret":         "wrong-secret-value",
		"query string":         queryValue,
	} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds the %s", name)
		}
	}
	for _, header := range []string{"Authorization", "Basic ", "Bearer "} {
		if strings.Contains(logs, header) {
			t.Errorf("the log holds %q", header)
		}
	}

	// The access log names routes, not paths.
	for _, want := range []string{
		`level=DEBUG msg=request component=httpapi method=POST route="POST /oauth/token" ` +
			`status=200`,
		`route="GET /healthz" status=200`,
		`level=DEBUG msg="access token rejected" component=httpapi reason="token has expired"`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("logs:\n%s", logs)
	}
}

// TestCookieLogsHoldNoSecrets drives the cookie endpoints, successes, refusals and
// failures, and checks that no cookie value reaches the log or an error body.
func TestCookieLogsHoldNoSecrets(t *testing.T) {
	e := MustOpenEnv(t, envOptions{signUp: true, corsOrigins: []string{"https://app.test"}})
	e.MustCreateUser(t, testUser, "")

	first := e.MustCookieLogin(t, testUser)
	e.CookieLogin(t, testUser, "wrong password", nil)
	e.CookieLogin(t, testUser, testPassword, http.Header{"Origin": {"https://evil.test"}})
	e.Do(t, http.MethodPost, "/auth/signup", formType, "username=carol&password=password123",
		nil)
	e.Do(t, http.MethodGet, "/auth/me", "", "", http.Header{"Cookie": {first.Cookies()}})

	// Refused and accepted refreshes, a replay after the reuse interval, logouts.
	var bodies []string
	forged := http.Header{"Cookie": {first.Cookies()}, "X-Csrf-Token": {"forged"}}
	bodies = append(bodies, string(e.Do(t, http.MethodPost, "/auth/refresh", "", "",
		forged).body))
	second := e.MustCookieSession(t, e.Do(t, http.MethodPost, "/auth/refresh", "", "",
		first.Header()), http.StatusOK)
	e.clock.Advance(time.Minute)
	bodies = append(bodies, string(e.Do(t, http.MethodPost, "/auth/refresh", "", "",
		first.Header()).body))
	third := e.MustCookieLogin(t, testUser)
	e.clock.Advance(time.Hour)
	bodies = append(bodies, string(e.Do(t, http.MethodGet, "/auth/sessions", "", "",
		third.Header()).body))
	e.Do(t, http.MethodPost, "/auth/logout", "", "", third.Header())

	logs := e.logs.String()
	for _, cs := range []cookieSession{first, second, third} {
		for name, secret := range map[string]string{
			"access cookie": cs.access, "refresh cookie": cs.refresh, "csrf cookie": cs.csrf,
		} {
			if strings.Contains(logs, secret) {
				t.Errorf("the log holds a %s", name)
			}
			for _, b := range bodies {
				if strings.Contains(b, secret) {
					t.Errorf("an error body holds a %s: %s", name, b)
				}
			}
		}
	}
	for _, s := range []string{testPassword, "password123", "Cookie", "forged"} {
		if strings.Contains(logs, s) {
			t.Errorf("the log holds %q", s)
		}
	}
	if t.Failed() {
		t.Logf("logs:\n%s", logs)
	}
}
