package bench

import (
	"context"
	"io"
	"sync"
	"time"
)

// task performs one request that was due at start and records its outcome
// in the workerStats it was created for. Only one goroutine calls a task.
type task func(start time.Time)

type loopConfig struct {
	concurrency int
	duration    time.Duration
	rate        float64 // 0 for a closed loop
	progress    io.Writer
}

// latencyCapacity is the initial per-worker latency buffer in a closed loop,
// where the request count is unknown. The buffer grows beyond it as needed.
const latencyCapacity = 4096

// runLoop runs newTask's tasks from lc.concurrency workers until
// lc.duration has passed or ctx is done, waits for all of them, and merges
// what they recorded.
func runLoop(ctx context.Context, lc loopConfig, newTask func(st *workerStats) task) Report {
	stats := make([]*workerStats, lc.concurrency)
	tasks := make([]task, lc.concurrency)
	capacity := expectedPerWorker(lc)
	for i := range stats {
		stats[i] = newWorkerStats(capacity)
		tasks[i] = newTask(stats[i])
	}

	start := time.Now()
	prog := startProgress(lc.progress, start, stats)
	var dropped int
	if lc.rate > 0 {
		dropped = runOpenLoop(ctx, lc, start, tasks)
	} else {
		runClosedLoop(ctx.Done(), start.Add(lc.duration), tasks)
	}
	elapsed := time.Since(start)
	prog.stop(elapsed)

	rep := merge(stats)
	rep.Dropped = dropped
	rep.Duration = elapsed
	if elapsed > 0 {
		rep.Throughput = float64(rep.Requests-rep.Errors) / elapsed.Seconds()
	}
	return rep
}

func expectedPerWorker(lc loopConfig) int {
	if lc.rate == 0 {
		return latencyCapacity
	}
	n := lc.rate * lc.duration.Seconds() / float64(lc.concurrency)
	return int(min(n, 1<<20)) + 1
}

// runClosedLoop lets every worker send back to back until end or until done
// is closed.
func runClosedLoop(done <-chan struct{}, end time.Time, tasks []task) {
	var wg sync.WaitGroup
	for _, t := range tasks {
		wg.Go(func() {
			for !isClosed(done) {
				now := time.Now()
				if !now.Before(end) {
					return
				}
				t(now)
			}
		})
	}
	wg.Wait()
}

// runOpenLoop schedules request i at start + i/rate for every i that falls
// inside the duration, and returns how many it dropped because all workers
// were busy. A late scheduler still hands out the scheduled time, so the
// delay shows up in the latency instead of disappearing.
func runOpenLoop(ctx context.Context, lc loopConfig, start time.Time, tasks []task) (dropped int) {
	jobs := make(chan time.Time, len(tasks))
	// A worker holds a slot from dispatch until its request completes, so a
	// full slots channel means every worker is busy.
	slots := make(chan struct{}, len(tasks))

	var wg sync.WaitGroup
	for _, t := range tasks {
		wg.Go(func() {
			for due := range jobs {
				// Jobs still queued when ctx is cancelled are skipped.
				if !isClosed(ctx.Done()) {
					t(due)
				}
				<-slots
			}
		})
	}
	defer wg.Wait()
	defer close(jobs)

	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for i := 0; ; i++ {
		offset := time.Duration(float64(i) / lc.rate * float64(time.Second))
		if offset >= lc.duration {
			return dropped
		}
		due := start.Add(offset)
		if !sleepUntil(ctx, timer, due) {
			return dropped
		}
		select {
		case slots <- struct{}{}:
			jobs <- due
		default:
			dropped++
		}
	}
}

// isClosed reports whether done is closed. A receive that cannot proceed
// returns without taking the channel's lock, so workers can poll it
// before every request.
func isClosed(done <-chan struct{}) bool {
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// sleepUntil waits until t and reports false when ctx was done first.
func sleepUntil(ctx context.Context, timer *time.Timer, t time.Time) bool {
	wait := time.Until(t)
	if wait <= 0 {
		return ctx.Err() == nil
	}
	timer.Reset(wait)
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// merge combines the workers' records into one report.
func merge(stats []*workerStats) Report {
	rep := Report{
		StatusCounts: make(map[int]int),
		ErrorSamples: make(map[string]int),
		ServerStages: make(map[string]Percentiles),
	}
	var total int
	for _, st := range stats {
		total += len(st.latencies)
	}
	latencies := make([]time.Duration, 0, total)
	stages := make(map[string][]time.Duration)
	for _, st := range stats {
		rep.Requests += int(st.requests.Load())
		rep.Errors += int(st.failures.Load())
		latencies = append(latencies, st.latencies...)
		for code, n := range st.statuses {
			rep.StatusCounts[code] += n
		}
		for msg, n := range st.errors {
			addErrorSample(rep.ErrorSamples, msg, n)
		}
		for name, ds := range st.stages {
			stages[name] = append(stages[name], *ds...)
		}
	}
	rep.Latency = computePercentiles(latencies)
	for name, ds := range stages {
		rep.ServerStages[name] = computePercentiles(ds)
	}
	return rep
}
