package bench

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progressInterval is how often the live line is rewritten: often enough to
// look live, rarely enough that a slow terminal costs nothing measurable.
const progressInterval = 500 * time.Millisecond

// progress rewrites one status line on w from its own goroutine. Write
// errors are ignored because the line is only informational.
type progress struct {
	w     io.Writer
	start time.Time
	stats []*workerStats
	done  chan struct{}
	exit  chan struct{}

	lastRequests int64
	lastAt       time.Duration
	lastWidth    int
}

func startProgress(w io.Writer, start time.Time, stats []*workerStats) *progress {
	p := &progress{w: w, start: start, stats: stats, done: make(chan struct{}), exit: make(chan struct{})}
	if w == nil {
		close(p.exit)
		return p
	}
	go p.run()
	return p
}

func (p *progress) run() {
	defer close(p.exit)
	ticker := time.NewTicker(progressInterval)
	defer ticker.Stop()
	for {
		select {
		case <-p.done:
			return
		case <-ticker.C:
			p.write(time.Since(p.start), "")
		}
	}
}

// stop ends the goroutine and writes the final line, ended by a newline.
func (p *progress) stop(elapsed time.Duration) {
	if p.w == nil {
		return
	}
	close(p.done)
	<-p.exit
	p.lastRequests, p.lastAt = 0, 0 // the final line shows the average rate
	p.write(elapsed, "\n")
}

func (p *progress) write(elapsed time.Duration, end string) {
	var requests, failures int64
	var live [len(liveHistogram{}.buckets)]int64
	for _, st := range p.stats {
		requests += st.requests.Load()
		failures += st.failures.Load()
		for i := range live {
			live[i] += st.live.buckets[i].Load()
		}
	}

	var rate float64
	if window := elapsed - p.lastAt; window > 0 {
		rate = float64(requests-p.lastRequests) / window.Seconds()
	}
	p.lastRequests, p.lastAt = requests, elapsed

	line := fmt.Sprintf("elapsed %.1fs  requests %d  req/s %.1f  p50 %s  errors %d",
		elapsed.Seconds(), requests, rate, formatLatency(liveMedian(live[:])), failures)
	// Pad over the rest of a longer previous line, since \r does not clear it.
	pad := max(p.lastWidth-len(line), 0)
	p.lastWidth = len(line)
	fmt.Fprintf(p.w, "\r%s%s%s", line, strings.Repeat(" ", pad), end)
}

// liveMedian returns the lower bound of the bucket that holds the median,
// which is within 12.5% of the true median.
func liveMedian(counts []int64) time.Duration {
	var total int64
	for _, c := range counts {
		total += c
	}
	if total == 0 {
		return 0
	}
	var seen int64
	for i, c := range counts {
		seen += c
		if 2*seen >= total {
			return liveBucketLower(i)
		}
	}
	return 0
}
