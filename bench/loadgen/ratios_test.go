package main

import (
	"strings"
	"testing"

	"github.com/gatepass/gatepass/bench/load"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// roundResults returns the results of two rounds of trivial and verify, in the
// order loadgen runs them: trivial first in round 1, verify first in round 2.
func roundResults() []*load.Result {
	return []*load.Result{
		{Scenario: "trivial", Round: 1, PerSecond: 40000, PerServerCPUSecond: 50000},
		{Scenario: "verify", Round: 1, PerSecond: 30000, PerServerCPUSecond: 40000},
		{Scenario: "verify", Round: 2, PerSecond: 36000, PerServerCPUSecond: 38000},
		{Scenario: "trivial", Round: 2, PerSecond: 45000, PerServerCPUSecond: 47500},
	}
}

func TestRatiosToTrivial(t *testing.T) {
	got := ratiosToTrivial([]string{"trivial", "verify"}, roundResults())

	want := []*ratioSeries{{Scenario: "verify", Ratios: []float64{0.75, 0.8},
		Median: 0.775, CPURatios: []float64{0.8, 0.8}, CPUMedian: 0.8}}
	if diff := cmp.Diff(got, want, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
		t.Errorf("series (-got +want):\n%s", diff)
	}
}

func TestRatiosToTrivial_withoutTrivial(t *testing.T) {
	results := []*load.Result{{Scenario: "verify", Round: 1, PerSecond: 30000}}

	if got := ratiosToTrivial([]string{"verify"}, results); got != nil {
		t.Errorf("series = %+v, want none without a trivial window", got)
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{in: nil, want: 0},
		{in: []float64{0.9}, want: 0.9},
		{in: []float64{0.9, 0.7, 0.8}, want: 0.8},
		{in: []float64{0.5, 0.25, 1, 0.75}, want: 0.625},
	}
	for _, tt := range tests {
		in := append([]float64(nil), tt.in...)

		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
		if !cmp.Equal(tt.in, in) {
			t.Errorf("median reordered its input to %v", tt.in)
		}
	}
}

func TestRoundOrder(t *testing.T) {
	names := []string{"trivial", "verify", "me"}

	got := [][]string{roundOrder(names, 1), roundOrder(names, 2), roundOrder(names, 3)}

	want := [][]string{{"trivial", "verify", "me"}, {"me", "verify", "trivial"},
		{"trivial", "verify", "me"}}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("orders (-got +want):\n%s", diff)
	}
	if names[0] != "trivial" {
		t.Errorf("roundOrder changed its argument to %v", names)
	}
}

func TestWriteTable_rounds(t *testing.T) {
	var b strings.Builder

	if err := writeTable(&b, roundResults()); err != nil {
		t.Fatal(err)
	}
	if err := writeRatios(&b, ratiosToTrivial([]string{"trivial", "verify"},
		roundResults())); err != nil {
		t.Fatal(err)
	}

	// Each ratio is to the trivial window of its own round.
	want := "| round | scenario | req/s | vs trivial | req/server CPU-s | p50 ms | p90 ms " +
		"| p99 ms | max ms | errors |\n" +
		"| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n" +
		"| 1 | trivial | 40000 | 1.00x | 50000 | 0.00 | 0.00 | 0.00 | 0.00 | 0 |\n" +
		"| 1 | verify | 30000 | 0.75x | 40000 | 0.00 | 0.00 | 0.00 | 0.00 | 0 |\n" +
		"| 2 | verify | 36000 | 0.80x | 38000 | 0.00 | 0.00 | 0.00 | 0.00 | 0 |\n" +
		"| 2 | trivial | 45000 | 1.00x | 47500 | 0.00 | 0.00 | 0.00 | 0.00 | 0 |\n" +
		"\n| scenario | rounds | median vs trivial | lowest | highest " +
		"| median per server CPU-s |\n" +
		"| --- | ---: | ---: | ---: | ---: | ---: |\n" +
		"| verify | 2 | 0.78x | 0.75x | 0.80x | 0.80x |\n"
	if diff := cmp.Diff(b.String(), want); diff != "" {
		t.Errorf("tables (-got +want):\n%s", diff)
	}
}

// TestRun_rounds runs the trivial scenario in three rounds against a server
// that answers /healthz as gatepass does, and checks that every round is
// reported, in order.
func TestRun_rounds(t *testing.T) {
	srv := startHealthz(t)

	got, progress := runJSON(t, "-url", srv.URL, "-scenario", "trivial", "-rounds", "3",
		"-c", "2", "-d", "50ms", "-warmup", "0s")

	var rounds []int
	for _, r := range got.Results {
		if r.Scenario != "trivial" || r.Requests == 0 || r.Errors != 0 {
			t.Errorf("result %+v, want trivial with requests and no errors", r)
		}
		rounds = append(rounds, r.Round)
	}
	if got.Rounds != 3 || !cmp.Equal(rounds, []int{1, 2, 3}) {
		t.Errorf("rounds %d, results in rounds %v; want 3 and [1 2 3]", got.Rounds, rounds)
	}
	if !strings.Contains(progress, "round 3: trivial") {
		t.Errorf("progress %q does not name round 3", progress)
	}
}

// TestRunScenarios_rounds runs two scenarios in three rounds through a runner
// that makes up their rates, and checks the order they ran in, their rounds
// and the ratios reported.
func TestRunScenarios_rounds(t *testing.T) {
	rates := map[string][]float64{"trivial": {40000, 50000, 40000},
		"verify": {30000, 45000, 36000}}
	var ran []string
	runOne := func(c load.Config) (*load.Result, error) {
		n := 0
		for _, name := range ran {
			if name == c.Scenario {
				n++
			}
		}
		ran = append(ran, c.Scenario)
		return &load.Result{Scenario: c.Scenario, PerSecond: rates[c.Scenario][n]}, nil
	}
	rep := &report{}
	var progress strings.Builder

	err := runScenarios(rep, load.Config{}, []string{"trivial", "verify"}, 3, &progress,
		runOne)

	if err != nil {
		t.Fatal(err)
	}
	want := []string{"trivial", "verify", "verify", "trivial", "trivial", "verify"}
	if !cmp.Equal(ran, want) {
		t.Errorf("ran %v, want %v", ran, want)
	}
	var rounds []int
	for _, r := range rep.Results {
		rounds = append(rounds, r.Round)
	}
	if !cmp.Equal(rounds, []int{1, 1, 2, 2, 3, 3}) || rep.Rounds != 3 {
		t.Errorf("rounds %v of %d, want [1 1 2 2 3 3] of 3", rounds, rep.Rounds)
	}
	wantRatios := []*ratioSeries{{Scenario: "verify", Ratios: []float64{0.75, 0.9, 0.9},
		Median: 0.9}}
	if diff := cmp.Diff(rep.Ratios, wantRatios, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
		t.Errorf("ratios (-got +want):\n%s", diff)
	}
	if !strings.Contains(progress.String(), "round 2: verify") {
		t.Errorf("progress %q does not name round 2", progress.String())
	}
}

func TestWriteRatios_noRounds(t *testing.T) {
	var b strings.Builder

	if err := writeRatios(&b, []*ratioSeries{{Scenario: "verify"}}); err != nil {
		t.Fatal(err)
	}

	if !strings.Contains(b.String(), "| verify | 0 | - | - | - | - |") {
		t.Errorf("table %q, want dashes for a scenario with no rounds", b.String())
	}
}
