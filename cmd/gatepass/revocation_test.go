package main_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

// TestServe_revocationCheck runs two "gatepass serve --revocation-check"
// processes and one without the flag on one database. A session signed out on A
// is refused by B within a poll, while the instance without the check still
// admits its access token, as it always has, until the token expires.
func TestServe_revocationCheck(t *testing.T) {
	databases := []struct {
		name string
		db   func(tb testing.TB) string
	}{
		{name: "sqlite", db: func(tb testing.TB) string {
			return filepath.Join(tb.TempDir(), "gatepass.db")
		}},
		{name: "postgres", db: MustCreatePostgres},
	}
	for _, d := range databases {
		t.Run(d.name, func(t *testing.T) {
			db := d.db(t)
			bin := MustBuild(t)
			mustAddUser(t, bin, db, "alice", "alice-password")
			a := StartProcess(t, bin, db, "--revocation-check", "--rate-limit", "off")
			b := StartProcess(t, bin, db, "--revocation-check", "--rate-limit", "off")
			off := StartProcess(t, bin, db, "--rate-limit", "off")

			status, pair := postForm(t, a.URL+"/oauth/token", url.Values{
				"grant_type": {"password"}, "username": {"alice"},
				"password": {"alice-password"}})
			if status != http.StatusOK {
				t.Fatalf("sign-in on A: %d %v", status, pair)
			}
			access, _ := pair["access_token"].(string)
			refresh, _ := pair["refresh_token"].(string)
			for _, p := range []*Process{a, b, off} {
				if status, _ := verifyToken(t, p.URL, access); status != http.StatusOK {
					t.Fatalf("forward auth on %s before sign-out: %d", p.URL, status)
				}
			}

			// Sign out on A.
			res, err := http.PostForm(a.URL+"/oauth/revoke", url.Values{"token": {refresh}})
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Fatalf("revoke on A: %d", res.StatusCode)
			}

			// B refuses the token once it has polled; A refuses it at once.
			waitFor(t, func() bool {
				status, _ := verifyToken(t, b.URL, access)
				return status == http.StatusUnauthorized
			})
			for _, p := range []*Process{a, b} {
				status, body := verifyToken(t, p.URL, access)
				if status != http.StatusUnauthorized || body["error"] != "invalid_token" ||
					body["error_description"] != "token has been revoked" {
					t.Errorf("forward auth on %s after sign-out: %d %v, want 401 "+
						"invalid_token, token has been revoked", p.URL, status, body)
				}
			}
			if status, _ := verifyToken(t, off.URL, access); status != http.StatusOK {
				t.Errorf("forward auth without the check: %d, want 200 until expiry", status)
			}

			for _, p := range []*Process{a, b} {
				if !strings.Contains(p.Logs(), `msg="revocation check on"`) {
					t.Errorf("%s did not log the check at start:\n%s", p.URL, p.Logs())
				}
			}
			if !strings.Contains(off.Logs(), `msg="revocation check off`) {
				t.Errorf("no log line says the check is off:\n%s", off.Logs())
			}
			for _, p := range []*Process{a, b, off} {
				if strings.Contains(p.Logs(), access) || strings.Contains(p.Logs(), refresh) {
					t.Errorf("%s logged a token", p.URL)
				}
			}
		})
	}
}

// verifyToken asks base's forward-auth endpoint about an access token and returns
// the status and, for an error, the JSON body.
func verifyToken(tb testing.TB, base, tok string) (int, map[string]any) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/auth/verify", nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("GET /auth/verify: %v", err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}

	var body map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &body); err != nil {
			tb.Fatalf("GET /auth/verify: body %q: %v", b, err)
		}
	}
	return res.StatusCode, body
}

// TestServe_revocationCheckFromEnvironment turns the check on with
// GATEPASS_REVOCATION_CHECK, and refuses a value that is not a boolean.
func TestServe_revocationCheckFromEnvironment(t *testing.T) {
	p := NewProgram(t)
	p.Env["GATEPASS_REVOCATION_CHECK"] = "true"
	s := p.MustServe(t)
	if got := s.Stderr.String(); !strings.Contains(got, `msg="revocation check on"`) {
		t.Errorf("no log line says the check is on:\n%s", got)
	}
	if err := s.Stop(t); err != nil {
		t.Fatal(err)
	}

	p.Env["GATEPASS_REVOCATION_CHECK"] = "sometimes"
	r := p.Run("", "serve", "--addr", "127.0.0.1:0")
	if r.Err == nil || !strings.Contains(r.Err.Error(), "GATEPASS_REVOCATION_CHECK") {
		t.Errorf("serve with GATEPASS_REVOCATION_CHECK=sometimes: err = %v, want one "+
			"naming the variable", r.Err)
	}
}
