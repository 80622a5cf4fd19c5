package node

import (
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/yoloplane/yoloplane/shared/wire"
)

// Bounds of the per-deployment stats. They bound memory per deployment to
// about 100 KiB whatever the request rate.
const (
	// maxLatencies is the length of the recent latency ring, enough for
	// stable p99 estimates.
	maxLatencies = 1000
	// maxLogs is the length of the request log ring.
	maxLogs = 500
	// seriesMinutes is how many minutes of per-minute counts are kept.
	seriesMinutes = 60
	// minuteSamples bounds the latencies kept per minute for its median.
	minuteSamples = 256
)

// stats collects what the node measured for one deployment. It is safe
// for concurrent use.
type stats struct {
	mu        sync.Mutex
	requests  int64
	errors    int64
	latencies ring[float64]
	logs      ring[wire.LogEntry]
	minutes   []minute // oldest first, at most seriesMinutes
}

type minute struct {
	unix      int64
	requests  int64
	errors    int64
	latencies []float64 // first minuteSamples of the minute
}

func newStats() *stats {
	return &stats{latencies: newRing[float64](maxLatencies), logs: newRing[wire.LogEntry](maxLogs)}
}

// observe records one finished request.
func (s *stats) observe(at time.Time, method, path string, status int, latency time.Duration, message string) {
	ms := float64(latency.Microseconds()) / 1000
	failed := status >= http.StatusBadRequest
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	if failed {
		s.errors++
	}
	s.latencies.push(ms)
	s.logs.push(wire.LogEntry{
		Time:      at.UTC().Format(time.RFC3339Nano),
		Severity:  severity(status),
		Method:    method,
		Path:      path,
		Status:    status,
		LatencyMs: ms,
		Message:   message,
	})
	m := s.minuteLocked(at.Unix() / 60 * 60)
	m.requests++
	if failed {
		m.errors++
	}
	if len(m.latencies) < minuteSamples {
		m.latencies = append(m.latencies, ms)
	}
}

// minuteLocked returns the bucket of the minute starting at unix, adding
// it when it is newer than the last one. A request that finishes after a
// newer minute began counts in that newer minute.
func (s *stats) minuteLocked(unix int64) *minute {
	if n := len(s.minutes); n > 0 && s.minutes[n-1].unix >= unix {
		return &s.minutes[n-1]
	}
	s.minutes = append(s.minutes, minute{unix: unix})
	if len(s.minutes) > seriesMinutes {
		s.minutes = slices.Delete(s.minutes, 0, len(s.minutes)-seriesMinutes)
	}
	return &s.minutes[len(s.minutes)-1]
}

// snapshot returns a copy of the stats in wire form.
func (s *stats) snapshot(deploymentID, nodeID string) wire.DeploymentStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := wire.DeploymentStats{
		DeploymentID: deploymentID,
		NodeID:       nodeID,
		Requests:     s.requests,
		Errors:       s.errors,
		LatenciesMs:  s.latencies.items(),
		Logs:         s.logs.items(),
		Series:       make([]wire.MinuteCount, 0, len(s.minutes)),
	}
	for _, m := range s.minutes {
		out.Series = append(out.Series, wire.MinuteCount{
			MinuteUnix: m.unix, Requests: m.requests, Errors: m.errors, P50Ms: median(m.latencies),
		})
	}
	return out
}

func severity(status int) string {
	switch {
	case status >= http.StatusInternalServerError:
		return "ERROR"
	case status >= http.StatusBadRequest:
		return "WARNING"
	}
	return "INFO"
}

func median(values []float64) float64 {
	if len(values) == 0 {
		return 0
	}
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	mid := len(sorted) / 2
	if len(sorted)%2 == 1 {
		return sorted[mid]
	}
	return (sorted[mid-1] + sorted[mid]) / 2
}

// ring is a fixed-capacity buffer that overwrites its oldest item.
type ring[T any] struct {
	buf  []T
	next int
	full bool
}

func newRing[T any](capacity int) ring[T] {
	return ring[T]{buf: make([]T, capacity)}
}

func (r *ring[T]) push(v T) {
	r.buf[r.next] = v
	r.next++
	if r.next == len(r.buf) {
		r.next, r.full = 0, true
	}
}

// items returns a copy of the items, oldest first.
func (r *ring[T]) items() []T {
	if !r.full {
		return slices.Clone(r.buf[:r.next])
	}
	return append(slices.Clone(r.buf[r.next:]), r.buf[:r.next]...)
}
