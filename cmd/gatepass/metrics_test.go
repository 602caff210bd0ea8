package main_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// get fetches u and returns the status and body.
func get(tb testing.TB, u string) (int, string) {
	tb.Helper()
	res, err := http.Get(u)
	if err != nil {
		tb.Fatalf("GET %s: %v", u, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return res.StatusCode, string(b)
}

// metricsAddr is the address in the "metrics listening" log line.
var metricsAddr = regexp.MustCompile(`msg="metrics listening".* addr=(\S+)`)

// TestServe_metricsAddr checks that --metrics-addr moves /metrics to a listener
// of its own, which counts what the main one serves and stops with it.
func TestServe_metricsAddr(t *testing.T) {
	p := NewProgram(t)
	p.MustRun(t, "alice-password\n", "user", "add", "alice", "--password-stdin")
	srv := p.MustServe(t, "--metrics-addr", "127.0.0.1:0")
	match := metricsAddr.FindStringSubmatch(srv.Stderr.String())
	if match == nil {
		t.Fatalf("no metrics listener in the log:\n%s", srv.Stderr.String())
	}
	metricsURL := "http://" + match[1] + "/metrics"

	status, tok := postForm(t, srv.URL+"/oauth/token", url.Values{
		"grant_type": {"password"}, "username": {"alice"}, "password": {"alice-password"}})
	if status != http.StatusOK {
		t.Fatalf("sign-in: %d %v", status, tok)
	}

	status, body := get(t, metricsURL)
	if status != http.StatusOK {
		t.Fatalf("GET %s: status %d", metricsURL, status)
	}
	for _, want := range []string{
		`gatepass_sign_ins_total{outcome="success"} 1`,
		`gatepass_active_sessions 1`,
		`gatepass_http_request_duration_seconds_count{code="200",method="POST",` +
			`route="POST /oauth/token"} 1`,
		`gatepass_build_info{go_version="`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the metrics lack %q", want)
		}
	}

	status, body = get(t, srv.URL+"/metrics")
	if status != http.StatusNotFound || !strings.Contains(body, `"not_found"`) {
		t.Errorf("GET /metrics on --addr: %d %s, want 404 not_found", status, body)
	}

	if err := srv.Stop(t); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if res, err := http.Get(metricsURL); err == nil {
		res.Body.Close()
		t.Errorf("the metrics listener still answers after shutdown: %d", res.StatusCode)
	}
}

// TestServe_metrics checks where /metrics is served by default and with
// GATEPASS_METRICS_ADDR=off.
func TestServe_metrics(t *testing.T) {
	tests := []struct {
		name       string
		env        string
		wantStatus int
		wantBody   string
	}{
		{name: "default", wantStatus: http.StatusOK, wantBody: "gatepass_build_info{"},
		{name: "off", env: "off", wantStatus: http.StatusNotFound, wantBody: `"not_found"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewProgram(t)
			p.Env["GATEPASS_METRICS_ADDR"] = tt.env
			srv := p.MustServe(t)

			status, body := get(t, srv.URL+"/metrics")
			if status != tt.wantStatus || !strings.Contains(body, tt.wantBody) {
				t.Errorf("GET /metrics: %d, want %d with %q; body:\n%.300s", status,
					tt.wantStatus, tt.wantBody, body)
			}
		})
	}
}

// TestServe_rejectsBadMetricsAddr checks that an address that cannot be listened
// on stops the start with an error naming the flag.
func TestServe_rejectsBadMetricsAddr(t *testing.T) {
	p := NewProgram(t)
	r := p.Run("", "serve", "--addr", "127.0.0.1:0", "--metrics-addr", "not-an-address")
	if r.Err == nil || !strings.Contains(r.Err.Error(), "metrics-addr") {
		t.Errorf("err = %v, want an error naming metrics-addr", r.Err)
	}
}
