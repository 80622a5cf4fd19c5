package bench

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// maxErrorSamples caps the distinct error messages kept per run, because a
// server that puts request IDs in its errors would otherwise grow the map
// with every request. Further messages are counted under otherErrors.
const maxErrorSamples = 20

const otherErrors = "(other errors, distinct message limit reached)"

// workerStats is the record of one worker. Only the owning worker writes the
// plain fields. The atomic fields are also read by the progress goroutine.
type workerStats struct {
	latencies []time.Duration // successful requests only
	statuses  map[int]int
	errors    map[string]int
	// stages holds pointers so that appending needs only a map lookup,
	// which unlike a map assignment does not allocate a key from []byte.
	stages map[string]*[]time.Duration

	requests atomic.Int64
	failures atomic.Int64
	live     liveHistogram
}

func newWorkerStats(expected int) *workerStats {
	return &workerStats{
		latencies: make([]time.Duration, 0, expected),
		statuses:  make(map[int]int),
		errors:    make(map[string]int),
		stages:    make(map[string]*[]time.Duration),
	}
}

func (s *workerStats) success(latency time.Duration) {
	s.latencies = append(s.latencies, latency)
	s.live.add(latency)
	s.requests.Add(1)
}

func (s *workerStats) failure(msg string) {
	addErrorSample(s.errors, msg, 1)
	s.failures.Add(1)
	s.requests.Add(1)
}

// addStage records one Server-Timing duration. Only the first sighting of a
// stage name allocates, apart from the slice growing.
func (s *workerStats) addStage(name []byte, d time.Duration) {
	ds := s.stages[string(name)]
	if ds == nil {
		ds = new([]time.Duration)
		s.stages[string(name)] = ds
	}
	*ds = append(*ds, d)
}

func addErrorSample(m map[string]int, msg string, n int) {
	if _, ok := m[msg]; !ok && len(m) >= maxErrorSamples {
		msg = otherErrors
	}
	m[msg] += n
}

// liveHistogram is a coarse log-linear histogram of successful latencies
// for the progress line, readable while the worker updates it. Each power of
// two is split into 8 buckets, so a bucket's bounds differ by at most 12.5%.
type liveHistogram struct {
	buckets [64 * liveSubBuckets]atomic.Int64
}

const liveSubBuckets = 8

func liveBucket(d time.Duration) int {
	ns := uint64(max(d, 1))
	exp := bits.Len64(ns) - 1 // ns is in [2^exp, 2^(exp+1))
	if exp < 3 {
		return int(ns)
	}
	sub := (ns >> (exp - 3)) & (liveSubBuckets - 1)
	return exp*liveSubBuckets + int(sub)
}

// liveBucketLower returns the smallest duration that falls into bucket i.
func liveBucketLower(i int) time.Duration {
	if i < 3*liveSubBuckets {
		return time.Duration(i)
	}
	exp, sub := i/liveSubBuckets, i%liveSubBuckets
	return time.Duration((uint64(liveSubBuckets) + uint64(sub)) << (exp - 3))
}

func (h *liveHistogram) add(d time.Duration) {
	h.buckets[liveBucket(d)].Add(1)
}
