package main

// The command is a main package, so its test sits inside it. The smoke test
// builds gatepass and runs small storms on loopback; it checks the outcomes
// and the memory figures the run reports, never how fast anything was.

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRunSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds gatepass and serves it")
	}
	var stdout, stderr bytes.Buffer
	args := []string{"-n", "12", "-max-hashing", "3", "-hash-rate", "100ms",
		"-dir", t.TempDir()}
	if err := run(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\nstderr: %s", err, stderr.String())
	}
	out := stdout.String()

	// Without rate limits every sign-in succeeds: twelve hashes never wait
	// anywhere near the server's ten seconds for a slot. With the default
	// limits (10 a minute per account) the rest are refused with 429.
	got := map[string]string{}
	for line := range strings.SplitSeq(out, "\n") {
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) != 5 {
			continue
		}
		idle, err1 := strconv.Atoi(cells[1])
		peak, err2 := strconv.Atoi(cells[2])
		if err1 != nil || err2 != nil {
			continue // the header
		}
		if idle <= 0 || peak < idle {
			t.Errorf("%s: idle RSS %d KiB, peak %d KiB", cells[0], idle, peak)
		}
		got[cells[0]] = cells[4]
	}
	want := map[string]string{
		"--max-hashing default":    "12 × 200",
		"--max-hashing 3":          "12 × 200",
		"defaults, rate limits on": "10 × 200, 2 × 429 too_many_requests",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s\noutput:\n%s", diff, out)
	}
	if !strings.Contains(out, "raw argon2id on ") {
		t.Errorf("output lacks the hash rate:\n%s", out)
	}
}

func TestStatusKiB(t *testing.T) {
	tests := []struct {
		name    string
		field   string
		wantErr bool
	}{
		{name: "resident", field: "VmRSS"},
		{name: "peak", field: "VmHWM"},
		{name: "unknown-field", field: "VmNothing", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := statusKiB(os.Getpid(), tt.field)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("statusKiB(%s) = %d, want an error", tt.field, got)
				}
				return
			}
			if err != nil || got <= 0 {
				t.Errorf("statusKiB(%s) = %d, %v; want a positive size", tt.field, got, err)
			}
		})
	}
}
