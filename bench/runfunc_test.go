package bench

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestRunFuncCounts(t *testing.T) {
	var calls atomic.Int64
	errOdd := errors.New("odd call")
	fn := func() error {
		if calls.Add(1)%2 == 1 {
			return errOdd
		}
		return nil
	}

	rep, err := RunFunc(context.Background(), 3, 100*time.Millisecond, nil, fn)
	if err != nil {
		t.Fatalf("RunFunc: %v", err)
	}
	n := int(calls.Load())
	if rep.Requests != n {
		t.Errorf("Requests = %d, fn called %d times", rep.Requests, n)
	}
	if want := (n + 1) / 2; rep.Errors != want {
		t.Errorf("Errors = %d, want %d odd calls", rep.Errors, want)
	}
	if rep.ErrorSamples["odd call"] != rep.Errors {
		t.Errorf("ErrorSamples = %v, want odd call counted %d times", rep.ErrorSamples, rep.Errors)
	}
	if rep.Latency.Count != n-rep.Errors {
		t.Errorf("Latency.Count = %d, want %d", rep.Latency.Count, n-rep.Errors)
	}
	if len(rep.StatusCounts) != 0 || len(rep.ServerStages) != 0 {
		t.Errorf("StatusCounts = %v, ServerStages = %v, want both empty", rep.StatusCounts, rep.ServerStages)
	}
}

func TestRunFuncErrorSamplesCapped(t *testing.T) {
	var calls atomic.Int64
	fn := func() error {
		return errors.New("failure " + strings.Repeat("x", int(calls.Add(1)%50)))
	}
	rep, err := RunFunc(context.Background(), 2, 50*time.Millisecond, nil, fn)
	if err != nil {
		t.Fatalf("RunFunc: %v", err)
	}
	if len(rep.ErrorSamples) > maxErrorSamples+1 {
		t.Errorf("ErrorSamples has %d messages, want at most %d plus the overflow entry", len(rep.ErrorSamples), maxErrorSamples)
	}
	var sum int
	for _, n := range rep.ErrorSamples {
		sum += n
	}
	if sum != rep.Errors {
		t.Errorf("ErrorSamples counts sum to %d, want Errors = %d", sum, rep.Errors)
	}
}

func TestRunFuncCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var calls atomic.Int64
	fn := func() error {
		if calls.Add(1) == 5 {
			cancel()
		}
		return nil
	}
	rep, err := RunFunc(ctx, 1, time.Hour, nil, fn)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("RunFunc error = %v, want context.Canceled", err)
	}
	if rep.Requests != 5 {
		t.Errorf("Requests = %d, want the 5 calls made before cancel", rep.Requests)
	}
}

func TestRunFuncInvalidArgs(t *testing.T) {
	fn := func() error { return nil }
	if _, err := RunFunc(context.Background(), 0, time.Second, nil, fn); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("concurrency 0: error %v, want ErrInvalidConfig", err)
	}
	if _, err := RunFunc(context.Background(), 1, 0, nil, fn); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("duration 0: error %v, want ErrInvalidConfig", err)
	}
}

func BenchmarkRecordSuccess(b *testing.B) {
	st := newWorkerStats(latencyCapacity)
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		st.success(time.Since(start))
	}
}
