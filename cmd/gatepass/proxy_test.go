package main_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestServe_trustedProxy has two clients behind a proxy on this machine take
// turns at failed sign-ins, and checks whose address the per-address limit
// counts.
func TestServe_trustedProxy(t *testing.T) {
	tests := []struct {
		name string
		env  string
		// wantOther is the status of the second client's first attempt, after
		// the first client used up the address's budget.
		wantOther int
	}{
		{name: "trusted", env: "127.0.0.1, ::1", wantOther: http.StatusBadRequest},
		{name: "not-trusted", wantOther: http.StatusTooManyRequests},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewProgram(t)
			p.Env["GATEPASS_TRUSTED_PROXY"] = tt.env
			srv := p.MustServe(t, "--rate-limit", "2/m")

			// Each attempt names another account, so only the address limit
			// can refuse one.
			for i, name := range []string{"ann", "bob"} {
				if got := signInFrom(t, srv.URL, "203.0.113.1", name); got !=
					http.StatusBadRequest {
					t.Fatalf("first client, attempt %d: status %d, want 400", i+1, got)
				}
			}
			if got := signInFrom(t, srv.URL, "203.0.113.1", "cyd"); got !=
				http.StatusTooManyRequests {
				t.Fatalf("first client, attempt 3: status %d, want 429", got)
			}

			if got := signInFrom(t, srv.URL, "203.0.113.2", "dee"); got != tt.wantOther {
				t.Errorf("second client: status %d, want %d", got, tt.wantOther)
			}
		})
	}
}

// signInFrom tries a wrong password for name, through a proxy that says the
// request came from client.
func signInFrom(tb testing.TB, base, client, name string) int {
	tb.Helper()
	form := url.Values{"grant_type": {"password"}, "username": {name},
		"password": {"wrong"}}
	req, err := http.NewRequest(http.MethodPost, base+"/oauth/token",
		strings.NewReader(form.Encode()))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", client)

	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func TestServe_rejectsBadTrustedProxy(t *testing.T) {
	for _, v := range []string{"proxy.example", "10.0.0.0/33", ",", "0.0.0.0/0"} {
		p := NewProgram(t)

		r := p.Run("", "serve", "--addr", "127.0.0.1:0", "--trusted-proxy", v)

		if r.Err == nil || !strings.Contains(r.Err.Error(), "trusted-proxy") {
			t.Errorf("--trusted-proxy %q: err = %v, want one naming the flag", v, r.Err)
		}
	}

	p := NewProgram(t)
	p.Env["GATEPASS_TRUSTED_PROXY"] = "127.0.0.1, proxy.example"

	r := p.Run("", "serve", "--addr", "127.0.0.1:0")

	if r.Err == nil || !strings.Contains(r.Err.Error(), "GATEPASS_TRUSTED_PROXY") {
		t.Errorf("GATEPASS_TRUSTED_PROXY with a host name: err = %v, want one naming it",
			r.Err)
	}
}
