package main

// The command is a main package, so its test sits inside it. The load itself
// is tested in package load; this checks what the command prints.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatepass/gatepass/bench/load"
	"github.com/google/go-cmp/cmp"
)

func TestWriteTable(t *testing.T) {
	trivial := &load.Result{Scenario: "trivial", PerSecond: 20000,
		Latency: load.Latency{P50: 0.5, P90: 1.25, P99: 4, Max: 12.5}}
	refresh := &load.Result{Scenario: "refresh", PerSecond: 1500,
		Latency: load.Latency{P50: 8, P90: 20, P99: 95.5, Max: 240}, Errors: 3,
		ErrorKinds:         map[string]int64{"400 invalid_grant": 1, "timeout": 2},
		PerServerCPUSecond: 1834.4}
	header := "| scenario | req/s | vs trivial | req/server CPU-s | p50 ms | p90 ms " +
		"| p99 ms | max ms | errors |\n" +
		"| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n"
	tests := []struct {
		name    string
		results []*load.Result
		want    string
	}{
		{name: "with-trivial", results: []*load.Result{trivial, refresh}, want: header +
			"| trivial | 20000 | 1.00x | - | 0.50 | 1.25 | 4.00 | 12.5 | 0 |\n" +
			"| refresh | 1500 | 0.07x | 1834 | 8.00 | 20.0 | 95.5 | 240 | " +
			"3 (timeout: 2, 400 invalid_grant: 1) |\n"},
		{name: "without-trivial", results: []*load.Result{refresh}, want: header +
			"| refresh | 1500 | - | 1834 | 8.00 | 20.0 | 95.5 | 240 | " +
			"3 (timeout: 2, 400 invalid_grant: 1) |\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder

			if err := writeTable(&b, tt.results); err != nil {
				t.Fatal(err)
			}

			if diff := cmp.Diff(b.String(), tt.want); diff != "" {
				t.Errorf("table (-got +want):\n%s", diff)
			}
		})
	}
}

// startHealthz starts a server that answers /healthz as gatepass does, until
// the test ends.
func startHealthz(tb testing.TB) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"ok"}`)
	}))
	tb.Cleanup(srv.Close)
	return srv
}

// runJSON runs the command with args and -json -, and decodes what it prints.
func runJSON(tb testing.TB, args ...string) (report, string) {
	tb.Helper()
	var stdout, stderr bytes.Buffer

	err := run(context.Background(), append(args, "-json", "-"), &stdout, &stderr)

	if err != nil {
		tb.Fatalf("run: %v (stderr %s)", err, stderr.String())
	}
	var got report
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		tb.Fatalf("output %q: %v", stdout.String(), err)
	}
	return got, stderr.String()
}

// TestRun_json runs the command against a server that answers /healthz as
// gatepass does, and checks the JSON it prints.
func TestRun_json(t *testing.T) {
	srv := startHealthz(t)

	got, _ := runJSON(t, "-url", srv.URL, "-scenario", "trivial", "-c", "2", "-d", "100ms",
		"-warmup", "0s")

	if len(got.Results) != 1 || got.Results[0].Requests == 0 || got.Results[0].Errors != 0 {
		t.Fatalf("results %+v, want one with requests and no errors", got.Results)
	}
	r := got.Results[0]
	if r.Scenario != "trivial" || r.Concurrency != 2 || r.Seconds != 0.1 ||
		got.URL != srv.URL || got.Concurrency != 2 || got.Client != load.ClientRaw {
		t.Errorf("report %+v, result %+v; want trivial, 2 workers, 0.1s at %s, raw client",
			got, r, srv.URL)
	}
}

func TestRun_badFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "unknown-scenario", args: []string{"-scenario", "trivial,nap"},
			wantErr: `scenario: "nap" is not one of`},
		{name: "argument", args: []string{"now"}, wantErr: `unexpected argument "now"`},
		{name: "no-workers", args: []string{"-c", "0"}, wantErr: "concurrency:"},
		{name: "unknown-client", args: []string{"-client", "curl"},
			wantErr: `client: "curl" is not raw or net/http`},
		{name: "twice", args: []string{"-scenario", "trivial,verify,trivial"},
			wantErr: `scenario: "trivial" is listed twice`},
		{name: "no-rounds", args: []string{"-rounds", "0"},
			wantErr: "rounds: 0 is not a positive number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(context.Background(), tt.args, io.Discard, io.Discard)

			if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Errorf("run(%q) = %v, want %q", tt.args, err, tt.wantErr)
			}
		})
	}
}
