package bench

import (
	"math"
	"slices"
	"time"
)

// Percentiles summarizes a set of durations. All fields are zero when Count
// is zero.
type Percentiles struct {
	Count int
	P50   time.Duration
	P90   time.Duration
	P99   time.Duration
	P999  time.Duration
	Min   time.Duration
	Max   time.Duration
	Mean  time.Duration
}

// computePercentiles sorts ds in place and returns its exact percentiles.
func computePercentiles(ds []time.Duration) Percentiles {
	if len(ds) == 0 {
		return Percentiles{}
	}
	slices.Sort(ds)
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return Percentiles{
		Count: len(ds),
		P50:   percentile(ds, 0.50),
		P90:   percentile(ds, 0.90),
		P99:   percentile(ds, 0.99),
		P999:  percentile(ds, 0.999),
		Min:   ds[0],
		Max:   ds[len(ds)-1],
		Mean:  sum / time.Duration(len(ds)),
	}
}

// percentile returns the nearest-rank percentile of the sorted slice: the
// smallest value with at least fraction p of the values at or below it. It
// never interpolates, so the result is always a latency that was measured.
func percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	// The small subtraction keeps p·n = 90 from becoming 90.00000000000001
	// in floating point and selecting rank 91.
	rank := int(math.Ceil(float64(n)*p - 1e-9))
	return sorted[min(max(rank, 1), n)-1]
}
