package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// FuzzRequests throws arbitrary bodies, content types and Authorization headers at
// every POST endpoint and at /auth/me and /auth/sessions; the cookie endpoints also
// get the header's value as their cookies and CSRF token. Whatever arrives, the
// answer is never a 5xx, and every error is a JSON object with an "error" code.
func FuzzRequests(f *testing.F) {
	seeds := []struct{ contentType, body, authorization string }{
		{"application/x-www-form-urlencoded",
			"grant_type=password&username=alice&password=alice-password", ""},
		{"application/x-www-form-urlencoded", "grant_type=refresh_token&refresh_token=x", ""},
		{"application/json", `{"grant_type":"password","username":"a","password":1}`, ""},
		{"application/json", `{"grant_type":"password","grant_type":"password"}`, ""},
		{"application/json; charset=utf-8", `[1,2,3]`, "Basic Og=="},
		{"text/plain", "token=abc", "Bearer a.b.c"},
		{"application/x-www-form-urlencoded", "token=%zz&token=1", "Basic !!!"},
		{"", "", "bearer eyJhbGciOiJub25lIn0.e30."},
		{"multipart/form-data; boundary=x", "--x--", ""},
		{"application/json", `{"username":"alice","password":"alice-password"}`,
			"__Host-gatepass_csrf=a; __Secure-gatepass_refresh=b"},
		{"application/x-www-form-urlencoded", "username=bob&password=password123", ""},
	}
	for _, s := range seeds {
		f.Add(s.contentType, []byte(s.body), s.authorization)
	}

	env := MustOpenEnv(f, envOptions{signUp: true})
	env.MustCreateUser(f, "alice", "")
	client := env.srv.Client()

	f.Fuzz(func(t *testing.T, contentType string, body []byte, authorization string) {
		for _, path := range []string{"/oauth/token", "/oauth/revoke", "/oauth/introspect",
			"/auth/login", "/auth/signup", "/auth/refresh", "/auth/logout"} {
			req, err := http.NewRequest("POST", env.srv.URL+path, bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", contentType)
			req.Header.Set("Authorization", authorization)
			if strings.HasPrefix(path, "/auth/") {
				req.Header.Set("Cookie", authorization)
				req.Header.Set("X-CSRF-Token", authorization)
			}
			checkAnswer(t, client, req)
		}

		for _, path := range []string{"/auth/me", "/auth/sessions"} {
			req, err := http.NewRequest("GET", env.srv.URL+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", authorization)
			req.Header.Set("Cookie", authorization)
			checkAnswer(t, client, req)
		}
	})
}

// checkAnswer sends req and fails on a 5xx or an error that is not RFC-shaped JSON.
// Requests Go's client refuses to send (invalid header values) are skipped.
func checkAnswer(t *testing.T, client *http.Client, req *http.Request) {
	resp, err := client.Do(req)
	if err != nil {
		return
	}
	defer resp.Body.Close()

	if resp.StatusCode >= 500 {
		t.Fatalf("%s %s answered %d", req.Method, req.URL.Path, resp.StatusCode)
	}
	if resp.StatusCode < 400 {
		return
	}
	var e struct {
		Error string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || e.Error == "" {
		t.Fatalf("%s %s answered %d without a JSON error code (%v)", req.Method,
			req.URL.Path, resp.StatusCode, err)
	}
}
