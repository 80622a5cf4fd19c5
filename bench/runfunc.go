package bench

import (
	"context"
	"fmt"
	"io"
	"time"
)

// RunFunc is Run without HTTP: concurrency workers call fn back to back for
// d, and the report counts each call as a request, a non-nil error as an
// error, and the call's duration as its latency. It measures code in
// process, such as a model session, with the same loop and report as Run.
// StatusCounts and ServerStages stay empty.
//
// A call in progress when ctx is cancelled completes, and RunFunc then
// returns the report so far together with ctx.Err(). fn is called from
// several goroutines at once when concurrency is above 1.
func RunFunc(ctx context.Context, concurrency int, d time.Duration, progress io.Writer, fn func() error) (Report, error) {
	if concurrency < 1 || concurrency > MaxConcurrency {
		return Report{}, fmt.Errorf("%w: concurrency %d out of range [1, %d]", ErrInvalidConfig, concurrency, MaxConcurrency)
	}
	if d <= 0 || d > MaxDuration {
		return Report{}, fmt.Errorf("%w: duration %v out of range (0, %v]", ErrInvalidConfig, d, MaxDuration)
	}
	newTask := func(st *workerStats) task {
		return func(start time.Time) {
			err := fn()
			latency := time.Since(start)
			if err != nil {
				st.failure(err.Error())
				return
			}
			st.success(latency)
		}
	}
	rep := runLoop(ctx, loopConfig{concurrency: concurrency, duration: d, progress: progress}, newTask)
	return rep, ctx.Err()
}
