package ratelimit

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/yoloplane/yoloplane/controlplane/state"
)

// ErrNotLeader reports that a batch reached a node that does not own the
// counters. The caller retries on the leader.
var ErrNotLeader = errors.New("rate limiter: this node is not the raft leader")

// ErrUnavailable reports that no decision could be made, because no leader
// is reachable. Callers choose whether to let the request through.
var ErrUnavailable = errors.New("rate limiter unavailable")

// Config configures a Limiter.
type Config struct {
	// Enterprise is the allowance of enterprise plans, which the platform
	// sets per contract. The default is ten times the pro plan.
	Enterprise Limits
	// FlushInterval is how often the leader commits day totals. A leader
	// that fails loses at most this much of the day's counts.
	FlushInterval time.Duration
	// MaxBatch bounds the decisions one follower call carries.
	MaxBatch int
	// Workers is the number of follower calls in flight at once. More
	// workers lower the wait behind a slow call under load.
	Workers int
}

// DefaultConfig returns the configuration the controlplane command uses.
func DefaultConfig() Config {
	return Config{
		Enterprise: Limits{PerMinute: 3_000, PerDay: 500_000},
		// Five seconds costs one small Raft entry per interval while keys
		// are in use, and bounds what a failover loses to a few seconds.
		FlushInterval: 5 * time.Second,
		MaxBatch:      512,
		Workers:       4,
	}
}

// Validate returns an error naming the first field out of range.
func (c Config) Validate() error {
	switch {
	case c.FlushInterval <= 0:
		return fmt.Errorf("flush interval %v must be positive", c.FlushInterval)
	case c.MaxBatch < 1:
		return fmt.Errorf("max batch %d must be at least 1", c.MaxBatch)
	case c.Workers < 1:
		return fmt.Errorf("workers %d must be at least 1", c.Workers)
	}
	return nil
}

// Raft is the part of the Raft node the limiter uses.
type Raft interface {
	IsLeader() bool
	// Barrier waits until this leader applied every committed entry.
	Barrier(ctx context.Context) error
	Apply(ctx context.Context, cmd state.Command) (any, error)
}

// Request is one decision to make: one request of KeyID under Limits.
type Request struct {
	KeyID  string `json:"k"`
	Limits Limits `json:"l"`
}

// Remote sends a batch of requests to the leader and returns one decision
// per request, in order. Followers call it from the limiter's worker
// goroutines; it must honor ctx.
type Remote func(ctx context.Context, reqs []Request) ([]Decision, error)

// Limiter makes rate-limit decisions on any node of the cluster.
type Limiter struct {
	cfg  Config
	raft Raft
	fsm  *state.FSM
	now  func() time.Time

	mu      sync.Mutex
	counter *Counter // non-nil while this node leads
	remote  Remote

	queue chan *pending
	stop  chan struct{}
	wg    sync.WaitGroup
}

// New returns a Limiter and starts its follower workers and day-total
// flusher. Stop them with Close.
func New(cfg Config, raft Raft, fsm *state.FSM) (*Limiter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid rate limit config: %w", err)
	}
	l := &Limiter{
		cfg: cfg, raft: raft, fsm: fsm, now: time.Now,
		queue: make(chan *pending, cfg.MaxBatch*cfg.Workers),
		stop:  make(chan struct{}),
	}
	for range cfg.Workers {
		l.wg.Go(l.work)
	}
	l.wg.Go(l.flushLoop)
	return l, nil
}

// SetRemote installs the call a follower makes to the leader.
func (l *Limiter) SetRemote(r Remote) {
	l.mu.Lock()
	l.remote = r
	l.mu.Unlock()
}

// Close stops the workers and the flusher, committing the last day totals
// first when this node leads.
func (l *Limiter) Close() error {
	close(l.stop)
	l.wg.Wait()
	return nil
}

// LimitsFor returns the allowance of plan.
func (l *Limiter) LimitsFor(plan state.Plan) Limits {
	switch plan {
	case state.PlanPro:
		return ProLimits
	case state.PlanEnterprise:
		return l.cfg.Enterprise
	}
	return FreeLimits
}

// Allow counts one request of keyID under plan's limits and returns the
// decision. On the leader it takes a mutex and touches no network; on a
// follower it waits for the leader's decision. The error wraps ErrUnavailable
// when no leader responded.
func (l *Limiter) Allow(ctx context.Context, keyID string, plan state.Plan) (Decision, error) {
	req := Request{KeyID: keyID, Limits: l.LimitsFor(plan)}
	if c := l.local(ctx); c != nil {
		return c.Take(req.KeyID, req.Limits), nil
	}
	return l.ask(ctx, req)
}

// AllowBatch decides a batch sent by a follower. It returns ErrNotLeader
// when this node does not lead.
func (l *Limiter) AllowBatch(ctx context.Context, reqs []Request) ([]Decision, error) {
	c := l.local(ctx)
	if c == nil {
		return nil, ErrNotLeader
	}
	out := make([]Decision, len(reqs))
	for i, r := range reqs {
		out[i] = c.Take(r.KeyID, r.Limits)
	}
	return out, nil
}

// local returns the leader's counter, creating it on the first request
// after this node gained leadership, or nil on a follower.
func (l *Limiter) local(ctx context.Context) *Counter {
	if !l.raft.IsLeader() {
		l.dropCounter()
		return nil
	}
	l.mu.Lock()
	c := l.counter
	l.mu.Unlock()
	if c != nil {
		return c
	}
	// The barrier makes the day totals committed by earlier leaders
	// visible before the first count starts from them.
	if err := l.raft.Barrier(ctx); err != nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.counter == nil {
		l.counter = NewCounter(l.now, l.fsm.DayCount)
	}
	return l.counter
}

// dropCounter discards the counter after leadership moved, so that a later
// term starts again from the committed totals instead of stale ones.
func (l *Limiter) dropCounter() {
	l.mu.Lock()
	l.counter = nil
	l.mu.Unlock()
}

func (l *Limiter) flushLoop() {
	t := time.NewTicker(l.cfg.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			l.Flush(context.Background())
		case <-l.stop:
			l.Flush(context.Background())
			return
		}
	}
}

// Flush commits the day totals counted since the last flush. It does
// nothing on a follower. Totals that fail to commit are lost from the
// record but stay in the leader's counter.
func (l *Limiter) Flush(ctx context.Context) error {
	l.mu.Lock()
	c := l.counter
	l.mu.Unlock()
	if c == nil || !l.raft.IsLeader() {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var errs []error
	for _, u := range c.TakeDirty() {
		if _, err := l.raft.Apply(ctx, &u); err != nil {
			errs = append(errs, fmt.Errorf("commit day totals of %d keys for %s: %w", len(u.Counts), u.Day, err))
		}
	}
	return errors.Join(errs...)
}

func sortByDay(us []state.RecordUsage) {
	slices.SortFunc(us, func(a, b state.RecordUsage) int { return cmp.Compare(a.Day, b.Day) })
}
