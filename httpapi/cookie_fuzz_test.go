package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// cookieFuzzPaths are the endpoints a browser's cookies authenticate, with the
// methods the browser uses.
var cookieFuzzPaths = []struct{ method, path string }{
	{http.MethodGet, "/auth/me"},
	{http.MethodPost, "/auth/refresh"},
	{http.MethodPost, "/auth/logout"},
}

// FuzzCookies sends arbitrary Cookie headers to the endpoints that read the
// session cookies. The header is a template: {A}, {R} and {C} become the
// access, refresh and CSRF cookie values of a fresh session, whose CSRF token
// also goes in X-CSRF-Token, so the fuzzer can put real values under real
// names, twice, in any order.
//
// Whatever arrives, the answer is never a 5xx and every error is a JSON error.
// A request is accepted only when each cookie it needs is present exactly once
// with the session's value: a cookie sent twice, as when a sibling subdomain
// plants its own, is never used.
func FuzzCookies(f *testing.F) {
	const (
		access  = "__Host-gatepass_access="
		refresh = "__Secure-gatepass_refresh="
		csrf    = "__Host-gatepass_csrf="
	)
	seeds := []string{
		access + "{A}; " + refresh + "{R}; " + csrf + "{C}",
		access + "planted; " + access + "{A}; " + refresh + "{R}; " + csrf + "{C}",
		access + "{A}; " + refresh + "{R}; " + refresh + "planted; " + csrf + "{C}",
		access + "{A}; " + refresh + "{R}; " + csrf + "planted; " + csrf + "{C}",
		access + "{A}; " + access + "{A}; " + refresh + "{R}; " + csrf + "{C}",
		refresh + "{R}; " + csrf + "{C}",
		access + `"{A}"; ` + refresh + `"{R}"; ` + csrf + `"{C}"`,
		"__host-gatepass_access={A}; gatepass_refresh={R}; gatepass_csrf={C}",
		access + "; " + refresh + "; " + csrf,
		"=;;==; ; a=b;" + access + "{A}{A}",
		strings.Repeat(access+"{A}; ", 8),
	}
	for _, s := range seeds {
		for i := range cookieFuzzPaths {
			f.Add(s, uint8(i))
		}
	}

	e := MustStartEnv(f)
	e.MustCreateUser(f, testUser, "")
	names := namesFor(false)

	f.Fuzz(func(t *testing.T, template string, which uint8) {
		cs := e.MustCookieLogin(t, testUser)
		header := strings.NewReplacer("{A}", cs.access, "{R}", cs.refresh,
			"{C}", cs.csrf).Replace(template)
		target := cookieFuzzPaths[int(which)%len(cookieFuzzPaths)]

		req, err := http.NewRequest(target.method, e.srv.URL+target.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Cookie", header)
		req.Header.Set("X-CSRF-Token", cs.csrf)
		status := checkCookieAnswer(t, e.srv.Client(), req)
		if status < 200 || status > 299 {
			return
		}

		// Accepted: only with the session's own cookies, each sent once. A
		// sign-out only needs a refresh cookie sent once, whatever its value:
		// ending a session that is already dead is a success.
		sent := func(name, want string) bool {
			r := &http.Request{Header: http.Header{"Cookie": {header}}}
			cookies := r.CookiesNamed(name)
			return len(cookies) == 1 && cookies[0].Value != "" &&
				(want == "" || cookies[0].Value == want)
		}
		ok := false
		switch target.path {
		case "/auth/me":
			ok = sent(names.access, cs.access)
		case "/auth/refresh":
			ok = sent(names.refresh, cs.refresh) && sent(names.csrf, cs.csrf)
		case "/auth/logout":
			ok = sent(names.csrf, cs.csrf) &&
				(sent(names.access, cs.access) || sent(names.refresh, ""))
		}
		if !ok {
			t.Errorf("%s %s accepted Cookie %q (status %d)", target.method, target.path,
				template, status)
		}
	})
}

// checkCookieAnswer sends req, fails on a 5xx or an error that is not a JSON
// error, and returns the status; 0 if Go's client refuses to send the request.
func checkCookieAnswer(t *testing.T, client *http.Client, req *http.Request) int {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()

	if resp.StatusCode >= 500 {
		t.Fatalf("%s %s answered %d", req.Method, req.URL.Path, resp.StatusCode)
	} else if resp.StatusCode < 400 {
		return resp.StatusCode
	}
	var e struct {
		Error string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || e.Error == "" {
		t.Fatalf("%s %s answered %d without a JSON error code (%v)", req.Method,
			req.URL.Path, resp.StatusCode, err)
	}
	return resp.StatusCode
}
