package load_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/gatepass/gatepass/bench/load"
)

// exactQuantile is the quantile the histogram approximates: the smallest sample
// with at least a fraction q of the samples at or below it.
func exactQuantile(sorted []time.Duration, q float64) time.Duration {
	rank := max(int(math.Ceil(q*float64(len(sorted)))), 1)
	return sorted[rank-1]
}

func TestHistogram_Quantile(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		name    string
		samples func(i int) time.Duration
	}{
		{name: "constant", samples: func(int) time.Duration { return 3 * time.Millisecond }},
		{name: "tiny", samples: func(i int) time.Duration { return time.Duration(i % 100) }},
		{name: "uniform", samples: func(int) time.Duration {
			return time.Duration(rng.Int64N(int64(20 * time.Millisecond)))
		}},
		{name: "long-tail", samples: func(int) time.Duration {
			return time.Duration(rng.ExpFloat64() * float64(2*time.Millisecond))
		}},
		{name: "minutes", samples: func(i int) time.Duration {
			return time.Duration(i+1) * 37 * time.Millisecond
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h load.Histogram
			samples := make([]time.Duration, 10000)
			for i := range samples {
				samples[i] = tt.samples(i)
				h.Record(samples[i])
			}
			slices.Sort(samples)

			if got := h.Count(); got != uint64(len(samples)) {
				t.Errorf("Count() = %d, want %d", got, len(samples))
			}
			if got, want := h.Max(), samples[len(samples)-1]; got != want {
				t.Errorf("Max() = %s, want %s", got, want)
			}
			for _, q := range []float64{0, 0.5, 0.9, 0.99, 0.999, 1} {
				got, want := h.Quantile(q), exactQuantile(samples, q)
				if math.Abs(float64(got-want)) > float64(want)/128 {
					t.Errorf("Quantile(%v) = %s, want %s within 1/128", q, got, want)
				}
			}
		})
	}
}

func TestHistogram_Merge(t *testing.T) {
	var all, a, b load.Histogram
	for i := range 5000 {
		d := time.Duration(i*i) * time.Microsecond
		all.Record(d)
		if i%3 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}

	a.Merge(&b)

	if a.Count() != all.Count() || a.Max() != all.Max() {
		t.Errorf("merged: %d samples up to %s, want %d up to %s", a.Count(), a.Max(),
			all.Count(), all.Max())
	}
	for _, q := range []float64{0.1, 0.5, 0.9, 0.99} {
		if got, want := a.Quantile(q), all.Quantile(q); got != want {
			t.Errorf("merged Quantile(%v) = %s, want %s", q, got, want)
		}
	}
}

func TestHistogram_empty(t *testing.T) {
	var h load.Histogram

	if h.Count() != 0 || h.Max() != 0 || h.Quantile(0.99) != 0 {
		t.Errorf("empty histogram: count %d, max %s, p99 %s; want zeros", h.Count(), h.Max(),
			h.Quantile(0.99))
	}
}
