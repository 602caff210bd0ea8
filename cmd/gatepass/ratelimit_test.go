package main_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

func TestServe_rateLimit(t *testing.T) {
	p := NewProgram(t)
	p.MustRun(t, "alice-password\n", "user", "add", "alice", "--password-stdin")
	srv := p.MustServe(t, "--rate-limit", "3/m")

	wrong := url.Values{"grant_type": {"password"}, "username": {"alice"},
		"password": {"wrong"}}
	for i := range 3 {
		if status, body := postForm(t, srv.URL+"/oauth/token", wrong); status !=
			http.StatusBadRequest {
			t.Fatalf("attempt %d: %d %v", i+1, status, body)
		}
	}
	res, err := http.PostForm(srv.URL+"/oauth/token", wrong)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("4th attempt: status %d, want 429", res.StatusCode)
	}
	// One attempt comes back every 20s. This runs on the real clock, so only the
	// bounds are checked; the exact value is tested on fake clocks elsewhere.
	got, err := strconv.Atoi(res.Header.Get("Retry-After"))
	if err != nil || got < 1 || got > 20 {
		t.Errorf("Retry-After = %q, want whole seconds in [1, 20]",
			res.Header.Get("Retry-After"))
	}
}

func TestServe_rateLimitOff(t *testing.T) {
	p := NewProgram(t)
	p.Env["GATEPASS_RATE_LIMIT"] = "off"
	srv := p.MustServe(t)
	if got := srv.Stderr.String(); !strings.Contains(got, `level=WARN msg="rate limiting off`) {
		t.Errorf("no warning that rate limiting is off:\n%s", got)
	}

	wrong := url.Values{"grant_type": {"password"}, "username": {"alice"},
		"password": {"wrong"}}
	for i := range 20 {
		if status, body := postForm(t, srv.URL+"/oauth/token", wrong); status !=
			http.StatusBadRequest {
			t.Fatalf("attempt %d: %d %v", i+1, status, body)
		}
	}
}

func TestServe_rejectsBadRateLimit(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "zero", args: []string{"--rate-limit", "0/m"}, want: "rate-limit"},
		{name: "no-unit", args: []string{"--rate-limit", "10"}, want: "rate-limit"},
		{name: "bad-unit", args: []string{"--rate-limit", "10/fortnight"},
			want: "rate-limit"},
		{name: "refresh", args: []string{"--refresh-rate-limit", "x/m"},
			want: "refresh-rate-limit"},
		{name: "redis-url", args: []string{"--redis", "http://u:s3cret@example.test"},
			want: "redis"},
		{name: "redis-unreachable", args: []string{"--redis",
			"redis://:s3cret@127.0.0.1:1/0"}, want: "redis"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewProgram(t)
			args := append([]string{"serve", "--addr", "127.0.0.1:0"}, tt.args...)
			r := p.Run("", args...)
			if r.Err == nil || !strings.Contains(r.Err.Error(), tt.want) {
				t.Errorf("err = %v, want one naming %s", r.Err, tt.want)
			} else if strings.Contains(r.Err.Error()+r.Stderr, "s3cret") {
				t.Errorf("the redis password reached the error or the log")
			}
		})
	}
}
