package main_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestServeCookieFlagsRefused checks that bad cookie and CORS settings stop the
// start, with an error that names the flag or variable.
func TestServeCookieFlagsRefused(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
	}{
		{name: "wildcard-origin", args: []string{"--cors-origin", "*"},
			wantErr: `invalid value "*" for flag -cors-origin: "*" is not allowed`},
		{name: "wildcard-in-list", args: []string{"--cors-origin", "https://a.example,*"},
			wantErr: "-cors-origin"},
		{name: "origin-with-path", args: []string{"--cors-origin", "https://a.example/app"},
			wantErr: "-cors-origin"},
		{name: "empty-origin", args: []string{"--cors-origin", ","},
			wantErr: "-cors-origin"},
		{name: "wildcard-env", env: map[string]string{"GATEPASS_CORS_ORIGIN": "*"},
			wantErr: `GATEPASS_CORS_ORIGIN: "*" is not allowed`},
		{name: "insecure-public-issuer",
			args:    []string{"--insecure-cookies", "--issuer", "https://id.example.com"},
			wantErr: "insecure-cookies: allowed only when the issuer host is localhost"},
		{name: "insecure-env-public-issuer",
			args:    []string{"--issuer", "http://id.example.com"},
			env:     map[string]string{"GATEPASS_INSECURE_COOKIES": "true"},
			wantErr: "insecure-cookies: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewProgram(t)
			for k, v := range tt.env {
				p.Env[k] = v
			}
			args := append([]string{"serve", "--addr", "127.0.0.1:0"}, tt.args...)
			r := p.Run("", args...)
			if r.Err == nil || !strings.Contains(r.Err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want one containing %q", r.Err, tt.wantErr)
			}
		})
	}
}

// TestServeCookieMode runs the server with --signup, --insecure-cookies and CORS
// origins from both the flag and the environment.
func TestServeCookieMode(t *testing.T) {
	p := NewProgram(t)
	p.Env["GATEPASS_CORS_ORIGIN"] = "https://a.example, https://b.example"
	p.Env["GATEPASS_INSECURE_COOKIES"] = "1"
	srv := p.MustServe(t, "--signup")

	// Sign-up answers 201 with unprefixed cookies without Secure.
	res, err := http.PostForm(srv.URL+"/auth/signup", url.Values{
		"username": {"carol"}, "password": {"a long unusual password"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("sign-up: status %d", res.StatusCode)
	}
	for _, c := range res.Cookies() {
		if c.Secure || !strings.HasPrefix(c.Name, "gatepass_") {
			t.Errorf("cookie %s: Secure = %v", c.Name, c.Secure)
		}
	}
	if len(res.Cookies()) != 4 {
		t.Errorf("%d cookies, want 4", len(res.Cookies()))
	}

	// Both origins from the environment are allowed; others are not.
	for origin, want := range map[string]int{"https://a.example": http.StatusNoContent,
		"https://b.example": http.StatusNoContent, "https://c.example": http.StatusForbidden} {
		if got := preflight(t, srv.URL, origin); got != want {
			t.Errorf("preflight from %s: status %d, want %d", origin, got, want)
		}
	}

	// The flag replaces the environment's list and may be repeated.
	p.Env = map[string]string{}
	flagged := p.MustServe(t, "--cors-origin", "https://c.example", "--cors-origin",
		"https://d.example:8443")
	for origin, want := range map[string]int{"https://a.example": http.StatusForbidden,
		"https://c.example":      http.StatusNoContent,
		"https://d.example:8443": http.StatusNoContent} {
		if got := preflight(t, flagged.URL, origin); got != want {
			t.Errorf("preflight from %s: status %d, want %d", origin, got, want)
		}
	}

	// Without --signup the endpoint does not exist.
	res, err = http.PostForm(flagged.URL+"/auth/signup", url.Values{
		"username": {"dave"}, "password": {"a long unusual password"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("sign-up while off: status %d, want 404", res.StatusCode)
	}
}

// preflight sends a CORS preflight for POST /auth/refresh and returns the status.
func preflight(tb testing.TB, base, origin string) int {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodOptions, base+"/auth/refresh", nil)
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", "POST")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	res.Body.Close()
	if got := res.Header.Get("Access-Control-Allow-Origin"); (got == origin) !=
		(res.StatusCode == http.StatusNoContent) {
		tb.Errorf("preflight from %s: status %d, Access-Control-Allow-Origin %q", origin,
			res.StatusCode, got)
	}
	return res.StatusCode
}
