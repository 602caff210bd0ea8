package load

import (
	"math"
	"math/bits"
	"time"
)

// Latencies are kept in a log-linear histogram, in the manner of HdrHistogram,
// rather than as a slice of every sample. Recording is an index computation and
// an increment, with no allocation and no lock: each worker owns a histogram and
// they are merged once at the end. Memory stays at 19 KiB per worker however long
// the run, where a slice would grow by 8 bytes a request and need a sort. The
// price is precision: a bucket is at most 1/64 of its values wide and a quantile
// is reported as the middle of its bucket, so it is off by less than 0.8%, far
// less than two runs of the same benchmark differ.
const (
	// subBits sets the precision: each power of two above 2^subBits is split into
	// 2^subBits buckets of equal width.
	subBits  = 6
	subCount = 1 << subBits

	// maxShift bounds the range to 2^(maxShift+subBits+1) ns, about 73 minutes;
	// longer samples are counted in the last bucket.
	maxShift = 35

	bucketCount = (maxShift + 2) * subCount
)

// Histogram counts durations in buckets whose width grows with the value, so that
// every quantile it reports is within 0.8% of the exact one. The zero value is
// empty and ready to use. It is not safe for concurrent use: give each goroutine
// its own and Merge them.
type Histogram struct {
	counts [bucketCount]uint64
	total  uint64
	max    time.Duration
}

// Record counts one sample. Negative durations count as zero.
func (h *Histogram) Record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucketOf(uint64(d))]++
	h.total++
	h.max = max(h.max, d)
}

// Merge adds the samples of o to h.
func (h *Histogram) Merge(o *Histogram) {
	for i, n := range o.counts {
		h.counts[i] += n
	}
	h.total += o.total
	h.max = max(h.max, o.max)
}

// Count returns the number of samples.
func (h *Histogram) Count() uint64 {
	return h.total
}

// Max returns the largest sample, exactly.
func (h *Histogram) Max() time.Duration {
	return h.max
}

// Quantile returns the smallest sample s such that a fraction q of the samples
// is at most s, to within the histogram's precision; 0 when it is empty. The
// answer never exceeds Max.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.total)))
	rank = min(max(rank, 1), h.total)

	var seen uint64
	for i, n := range h.counts {
		if seen += n; seen >= rank {
			low, width := bucketRange(i)
			return min(time.Duration(low+width/2), h.max)
		}
	}
	return h.max
}

// bucketOf returns the bucket of v. Below 2*subCount every value has a bucket of
// its own; above, v is shifted right until subBits+1 bits remain, and each shift
// opens another subCount buckets.
func bucketOf(v uint64) int {
	shift := max(bits.Len64(v)-subBits-1, 0)
	if shift > maxShift {
		return bucketCount - 1
	}
	return shift*subCount + int(v>>shift)
}

// bucketRange returns the smallest value of bucket i and how many values it holds.
func bucketRange(i int) (low, width uint64) {
	if i < 2*subCount {
		return uint64(i), 1
	}
	shift := i/subCount - 1
	top := uint64(i%subCount + subCount)
	return top << shift, 1 << shift
}
