package main_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestServeSimpleJWTCompat checks when "gatepass serve" answers simplejwt's
// POST /api/token/: with --simplejwt-compat or GATEPASS_SIMPLEJWT_COMPAT, and by
// default with --demo unless turned off explicitly.
func TestServeSimpleJWTCompat(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		user string
		want bool
	}{
		{name: "off-by-default", user: "alice"},
		{name: "flag", args: []string{"--simplejwt-compat"}, user: "alice", want: true},
		{name: "environment", env: map[string]string{"GATEPASS_SIMPLEJWT_COMPAT": "true"},
			user: "alice", want: true},
		{name: "flag-wins-over-environment", args: []string{"--simplejwt-compat=false"},
			env: map[string]string{"GATEPASS_SIMPLEJWT_COMPAT": "true"}, user: "alice"},
		{name: "demo", args: []string{"--demo"}, user: "demo", want: true},
		{name: "demo-turned-off", args: []string{"--demo", "--simplejwt-compat=false"},
			user: "demo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewProgram(t)
			for k, v := range tt.env {
				p.Env[k] = v
			}
			password := tt.user + "-password"
			if tt.user != "demo" {
				p.MustRun(t, password+"\n", "user", "add", tt.user, "--password-stdin")
			}
			srv := p.MustServe(t, tt.args...)

			status, body := postJSON(t, srv.URL+"/api/token/",
				`{"username": "`+tt.user+`", "password": "`+password+`"}`)
			if !tt.want {
				if status != http.StatusNotFound || body["error"] != "not_found" {
					t.Errorf("POST /api/token/: %d %v, want 404 not_found", status, body)
				}
				return
			}
			access, _ := body["access"].(string)
			refresh, _ := body["refresh"].(string)
			if status != http.StatusOK || len(body) != 2 || access == "" || refresh == "" {
				t.Fatalf("POST /api/token/: %d %v, want 200 access and refresh",
					status, body)
			}
			status, body = postJSON(t, srv.URL+"/api/token/verify/",
				`{"token": "`+access+`"}`)
			if status != http.StatusOK || len(body) != 0 {
				t.Errorf("POST /api/token/verify/: %d %v, want 200 {}", status, body)
			}
		})
	}
}

// postJSON posts a JSON body and decodes the JSON object it gets back.
func postJSON(tb testing.TB, u, body string) (int, map[string]any) {
	tb.Helper()
	resp, err := http.Post(u, "application/json", strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		tb.Fatalf("POST %s: status %d, body %q is not a JSON object", u, resp.StatusCode, b)
	}
	return resp.StatusCode, m
}
