package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/gatepass/gatepass/bench/load"
)

// trivialScenario is the scenario every other one is compared with: the
// cheapest request the server answers, so the ratio prices what the other adds.
const trivialScenario = "trivial"

// ratioSeries is how one scenario compared with the trivial one over the
// rounds of a run: its rate over trivial's in each round, and the median of
// those. With -server-pid, the same for the requests per server CPU-second.
type ratioSeries struct {
	Scenario  string    `json:"scenario"`
	Ratios    []float64 `json:"ratios"`
	Median    float64   `json:"median,omitempty"`
	CPURatios []float64 `json:"server_cpu_ratios,omitempty"`
	CPUMedian float64   `json:"server_cpu_median,omitempty"`
}

// ratiosToTrivial returns a series for each scenario of names other than
// trivial, in that order, or none when trivial did not run. A round whose
// windows served no request, or where either scenario is missing, is skipped.
func ratiosToTrivial(names []string, results []*load.Result) []*ratioSeries {
	trivial := make(map[int]*load.Result)
	for _, r := range results {
		if r.Scenario == trivialScenario {
			trivial[r.Round] = r
		}
	}
	if len(trivial) == 0 {
		return nil
	}

	var all []*ratioSeries
	for _, name := range names {
		if name == trivialScenario {
			continue
		}
		s := &ratioSeries{Scenario: name}
		for _, r := range results {
			base := trivial[r.Round]
			if r.Scenario != name || base == nil || base.PerSecond <= 0 {
				continue
			}
			s.Ratios = append(s.Ratios, r.PerSecond/base.PerSecond)
			if r.PerServerCPUSecond > 0 && base.PerServerCPUSecond > 0 {
				s.CPURatios = append(s.CPURatios,
					r.PerServerCPUSecond/base.PerServerCPUSecond)
			}
		}
		s.Median = median(s.Ratios)
		s.CPUMedian = median(s.CPURatios)
		all = append(all, s)
	}
	return all
}

// median returns the middle of v, or the mean of its two middle values when
// their number is even; 0 for none.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	sorted := slices.Sorted(slices.Values(v))
	mid := len(sorted) / 2
	if len(sorted)%2 == 1 {
		return sorted[mid]
	}
	return (sorted[mid-1] + sorted[mid]) / 2
}

// writeRatios prints the series as a Markdown table, after a blank line.
func writeRatios(w io.Writer, series []*ratioSeries) error {
	var b strings.Builder
	b.WriteString("\n| scenario | rounds | median vs trivial | lowest | highest " +
		"| median per server CPU-s |\n")
	b.WriteString("| --- | ---: | ---: | ---: | ---: | ---: |\n")
	for _, s := range series {
		perCPU := "-"
		if len(s.CPURatios) > 0 {
			perCPU = fmt.Sprintf("%.2fx", s.CPUMedian)
		}
		med, lowest, highest := "-", "-", "-"
		if len(s.Ratios) > 0 {
			med = fmt.Sprintf("%.2fx", s.Median)
			lowest = fmt.Sprintf("%.2fx", slices.Min(s.Ratios))
			highest = fmt.Sprintf("%.2fx", slices.Max(s.Ratios))
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s |\n", s.Scenario, len(s.Ratios),
			med, lowest, highest, perCPU)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
