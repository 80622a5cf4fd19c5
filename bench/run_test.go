package bench

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

func TestRunClosedLoopCounts(t *testing.T) {
	s := startServer(t, &predictServer{failEvery: 10, serverTiming: "decode;dur=1.5, inference;dur=10;desc=\"gpu\""})
	cfg := testConfig(s)

	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	served, failed := int(s.requests.Load()), int(s.failed.Load())
	if rep.Requests == 0 {
		t.Fatal("Run completed no requests")
	}
	if rep.Requests != served {
		t.Errorf("Requests = %d, server saw %d", rep.Requests, served)
	}
	if rep.Errors != failed {
		t.Errorf("Errors = %d, server failed %d", rep.Errors, failed)
	}
	if got := rep.StatusCounts[500]; got != failed {
		t.Errorf("StatusCounts[500] = %d, want %d", got, failed)
	}
	if got := rep.StatusCounts[200]; got != served-failed {
		t.Errorf("StatusCounts[200] = %d, want %d", got, served-failed)
	}
	if got := rep.Latency.Count; got != served-failed {
		t.Errorf("Latency.Count = %d, want one per success, %d", got, served-failed)
	}
	if failed > 0 && rep.ErrorSamples[`HTTP 500: {"error": "inference failed"}`] != failed {
		t.Errorf("ErrorSamples = %v, want the 500 body counted %d times", rep.ErrorSamples, failed)
	}
	if rep.Dropped != 0 {
		t.Errorf("Dropped = %d in a closed loop", rep.Dropped)
	}
	if rep.Throughput <= 0 {
		t.Errorf("Throughput = %v, want > 0", rep.Throughput)
	}
}

func TestRunServerStages(t *testing.T) {
	s := startServer(t, &predictServer{serverTiming: "decode;dur=1.5, inference;dur=10;desc=\"gpu\", total;dur=\"12.25\""})
	rep, err := Run(context.Background(), testConfig(s))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := map[string]time.Duration{
		"decode":    1500 * time.Microsecond,
		"inference": 10 * time.Millisecond,
		"total":     12250 * time.Microsecond,
	}
	if len(rep.ServerStages) != len(want) {
		t.Errorf("ServerStages has %d stages, want %d: %v", len(rep.ServerStages), len(want), rep.ServerStages)
	}
	for name, d := range want {
		p := rep.ServerStages[name]
		if p.Count != rep.Requests {
			t.Errorf("stage %s count = %d, want %d", name, p.Count, rep.Requests)
		}
		if p.P50 != d || p.Max != d || p.Min != d {
			t.Errorf("stage %s = %+v, want every percentile %v", name, p, d)
		}
	}
}

func TestRunLatencyAtLeastDelay(t *testing.T) {
	const delay = 20 * time.Millisecond
	s := startServer(t, &predictServer{delay: delay})
	cfg := testConfig(s)
	cfg.Concurrency = 1
	cfg.Duration = 100 * time.Millisecond

	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if rep.Latency.Min < delay {
		t.Errorf("Latency.Min = %v, below the server's %v delay", rep.Latency.Min, delay)
	}
	if p := rep.Latency; !(p.Min <= p.P50 && p.P50 <= p.P90 && p.P90 <= p.P99 && p.P99 <= p.P999 && p.P999 <= p.Max) {
		t.Errorf("percentiles out of order: %+v", p)
	}
}

func TestRunReadsFile(t *testing.T) {
	s := startServer(t, &predictServer{})
	path := filepath.Join(t.TempDir(), "bus.jpg")
	if err := os.WriteFile(path, testImage, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(s)
	cfg.File, cfg.FileBytes = path, nil
	cfg.Duration = 50 * time.Millisecond

	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if rep.Requests == 0 || rep.Errors != 0 {
		t.Errorf("Requests = %d, Errors = %d, want some requests and no errors", rep.Requests, rep.Errors)
	}
}

func TestRunMissingFile(t *testing.T) {
	cfg := Config{URL: "http://127.0.0.1:1/predict", File: filepath.Join(t.TempDir(), "missing.jpg")}
	_, err := Run(context.Background(), cfg)
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Run with a missing image: error %v, want os.ErrNotExist", err)
	}
}

func TestRunFixedRateSchedule(t *testing.T) {
	s := startServer(t, &predictServer{})
	cfg := testConfig(s)
	cfg.Rate = 200
	cfg.Duration = 500 * time.Millisecond

	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	// The schedule holds exactly rate × duration send times, and each one
	// is either sent or dropped.
	if got := rep.Requests + rep.Dropped; got != 100 {
		t.Errorf("Requests + Dropped = %d + %d, want 100 scheduled", rep.Requests, rep.Dropped)
	}
	if rep.Errors != 0 {
		t.Errorf("Errors = %d, samples %v", rep.Errors, rep.ErrorSamples)
	}
}

func TestRunFixedRateDrops(t *testing.T) {
	s := startServer(t, &predictServer{delay: 20 * time.Millisecond})
	cfg := testConfig(s)
	cfg.Concurrency = 1
	cfg.Rate = 1000
	cfg.Duration = 200 * time.Millisecond

	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	// One worker busy for at least 20 ms at a time cannot take a request
	// every millisecond.
	if rep.Dropped == 0 {
		t.Errorf("Dropped = 0 with one worker, 20 ms per request and 1000 req/s")
	}
	if got := rep.Requests + rep.Dropped; got != 200 {
		t.Errorf("Requests + Dropped = %d + %d, want 200 scheduled", rep.Requests, rep.Dropped)
	}
}

func TestRunTimeoutCountsError(t *testing.T) {
	s := startServer(t, &predictServer{delay: 300 * time.Millisecond})
	cfg := testConfig(s)
	cfg.Concurrency = 1
	cfg.Duration = 10 * time.Millisecond
	cfg.Timeout = 50 * time.Millisecond

	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if rep.Requests != 1 || rep.Errors != 1 {
		t.Errorf("Requests = %d, Errors = %d, want 1 timed-out request", rep.Requests, rep.Errors)
	}
	if len(rep.StatusCounts) != 0 {
		t.Errorf("StatusCounts = %v, want none for a request without a response", rep.StatusCounts)
	}
	if rep.ErrorSamples[fasthttp.ErrTimeout.Error()] != 1 {
		t.Errorf("ErrorSamples = %v, want timeout once", rep.ErrorSamples)
	}
}

func TestRunCancelStopsInFlight(t *testing.T) {
	s := startServer(t, &predictServer{block: make(chan struct{}), arrived: make(chan struct{}, 1)})
	cfg := testConfig(s)
	cfg.Duration = time.Minute
	cfg.Timeout = time.Minute

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		rep Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		rep, err := Run(ctx, cfg)
		done <- result{rep, err}
	}()

	<-s.arrived
	cancel()
	// The bound only keeps a broken cancel from hanging the test until the
	// one-minute duration and timeout run out.
	select {
	case r := <-done:
		if !errors.Is(r.err, context.Canceled) {
			t.Errorf("Run error = %v, want context.Canceled", r.err)
		}
		if r.rep.Requests != 0 || r.rep.Errors != 0 {
			t.Errorf("Requests = %d, Errors = %d, want aborted requests left uncounted", r.rep.Requests, r.rep.Errors)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func TestRunProgressLine(t *testing.T) {
	s := startServer(t, &predictServer{})
	cfg := testConfig(s)
	cfg.Duration = 600 * time.Millisecond
	var buf bytes.Buffer
	cfg.Progress = &buf

	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	out := buf.String()
	if !strings.HasPrefix(out, "\relapsed ") {
		t.Errorf("progress output %q does not start with \\relapsed", out)
	}
	if !strings.HasSuffix(out, "\n") {
		t.Errorf("progress output %q does not end with a newline", out)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\r")
	final := lines[len(lines)-1]
	for _, want := range []string{"requests " + strconv.Itoa(rep.Requests), "req/s ", "p50 ", "errors 0"} {
		if !strings.Contains(final, want) {
			t.Errorf("final progress line %q lacks %q", final, want)
		}
	}
}
