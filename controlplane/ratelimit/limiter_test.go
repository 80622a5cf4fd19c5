package ratelimit

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/controlplane/state"
)

// fakeRaft applies commands straight to a shared FSM, as a one-entry-at-a-
// time log would.
type fakeRaft struct {
	leader atomic.Bool
	log    *sharedLog
}

type sharedLog struct {
	mu    sync.Mutex
	fsm   *state.FSM
	index uint64
}

func (r *fakeRaft) IsLeader() bool { return r.leader.Load() }

func (r *fakeRaft) Barrier(context.Context) error { return nil }

func (r *fakeRaft) Apply(_ context.Context, cmd state.Command) (any, error) {
	data, err := state.Encode(cmd)
	if err != nil {
		return nil, err
	}
	r.log.mu.Lock()
	defer r.log.mu.Unlock()
	r.log.index++
	resp := r.log.fsm.Apply(&raft.Log{Index: r.log.index, Type: raft.LogCommand, Data: data})
	if err, ok := resp.(error); ok {
		return nil, err
	}
	return resp, nil
}

// newTestCluster returns n limiters over one FSM, the first one leading,
// with every follower's Remote pointing at whichever limiter leads.
func newTestCluster(t *testing.T, n int) ([]*Limiter, []*fakeRaft) {
	t.Helper()
	shared := &sharedLog{fsm: state.New()}
	var limiters []*Limiter
	var rafts []*fakeRaft
	cfg := DefaultConfig()
	cfg.FlushInterval = time.Hour // tests flush by hand
	for range n {
		r := &fakeRaft{log: shared}
		l, err := New(cfg, r, shared.fsm)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		limiters = append(limiters, l)
		rafts = append(rafts, r)
	}
	rafts[0].leader.Store(true)
	remote := func(ctx context.Context, reqs []Request) ([]Decision, error) {
		for i, r := range rafts {
			if r.IsLeader() {
				return limiters[i].AllowBatch(ctx, reqs)
			}
		}
		return nil, errors.New("no leader")
	}
	for _, l := range limiters {
		l.SetRemote(remote)
	}
	return limiters, rafts
}

func TestLimiterRacingAcrossNodes(t *testing.T) {
	limiters, _ := newTestCluster(t, 3)
	var allowed, rejected atomic.Int64
	var wg sync.WaitGroup
	for i := range 61 {
		wg.Go(func() {
			d, err := limiters[i%3].Allow(context.Background(), "k", state.PlanFree)
			if err != nil {
				t.Errorf("Allow: %v", err)
				return
			}
			if d.Allowed {
				allowed.Add(1)
			} else {
				rejected.Add(1)
			}
		})
	}
	wg.Wait()
	if allowed.Load() != 60 || rejected.Load() != 1 {
		t.Fatalf("allowed %d and rejected %d of 61 racing requests, want 60 and 1", allowed.Load(), rejected.Load())
	}
}

func TestLimiterDayCountSurvivesLeaderChange(t *testing.T) {
	limiters, rafts := newTestCluster(t, 2)
	ctx := context.Background()
	for range 40 {
		if _, err := limiters[1].Allow(ctx, "k", state.PlanFree); err != nil {
			t.Fatal(err)
		}
	}
	if err := limiters[0].Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	rafts[0].leader.Store(false)
	rafts[1].leader.Store(true)
	d, err := limiters[1].Allow(ctx, "k", state.PlanFree)
	if err != nil {
		t.Fatal(err)
	}
	// The minute count starts again on the new leader; the day count
	// continues from the committed 40.
	if d.Limit != 60 || d.Remaining != 59 {
		t.Errorf("first decision of the new leader: %+v, want minute limit with 59 remaining", d)
	}
	if got := rafts[1].log.fsm.DayCount("k", state.DayKey(time.Now())); got != 40 {
		t.Errorf("committed day count = %d, want 40", got)
	}
	limiters[1].mu.Lock()
	c := limiters[1].counter
	limiters[1].mu.Unlock()
	if got := c.keys["k"].dayCount; got != 41 {
		t.Errorf("day count on the new leader = %d, want 41", got)
	}
}

func TestLimiterUnavailableWithoutLeader(t *testing.T) {
	limiters, rafts := newTestCluster(t, 2)
	rafts[0].leader.Store(false)
	_, err := limiters[1].Allow(context.Background(), "k", state.PlanFree)
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Allow without a leader: err = %v, want ErrUnavailable", err)
	}
}

func TestLimiterPlans(t *testing.T) {
	l := &Limiter{cfg: DefaultConfig()}
	for plan, want := range map[state.Plan]Limits{
		state.PlanFree: FreeLimits, state.PlanPro: ProLimits, "": FreeLimits,
		state.PlanEnterprise: DefaultConfig().Enterprise,
	} {
		if got := l.LimitsFor(plan); got != want {
			t.Errorf("LimitsFor(%q) = %+v, want %+v", plan, got, want)
		}
	}
}

func TestHeadersAndReject(t *testing.T) {
	limiters, _ := newTestCluster(t, 1)
	var ctx fasthttp.RequestCtx
	var d Decision
	for range 60 {
		var err error
		if d, err = limiters[0].Allow(context.Background(), "k", state.PlanFree); err != nil {
			t.Fatal(err)
		}
	}
	WriteHeaders(&ctx.Response.Header, d)
	if got := string(ctx.Response.Header.Peek("X-RateLimit-Remaining")); got != "0" {
		t.Errorf("X-RateLimit-Remaining after 60 requests = %q, want 0", got)
	}
	if got := string(ctx.Response.Header.Peek("X-RateLimit-Limit")); got != "60" {
		t.Errorf("X-RateLimit-Limit = %q, want 60", got)
	}
	d, err := limiters[0].Allow(context.Background(), "k", state.PlanFree)
	if err != nil || d.Allowed {
		t.Fatalf("request 61: decision %+v, err %v, want rejected", d, err)
	}
	ctx.Response.Reset()
	Reject(&ctx, d)
	if ctx.Response.StatusCode() != fasthttp.StatusTooManyRequests {
		t.Fatalf("request 61: status %d, want 429", ctx.Response.StatusCode())
	}
	if got := string(ctx.Response.Header.Peek("Retry-After")); got != "60" {
		t.Errorf("Retry-After = %q, want 60", got)
	}
	if got := string(ctx.Response.Header.Peek("X-Error-Code")); got != "RATE_LIMITED" {
		t.Errorf("X-Error-Code = %q, want RATE_LIMITED", got)
	}
	if reset := string(ctx.Response.Header.Peek("X-RateLimit-Reset")); len(reset) != 10 {
		t.Errorf("X-RateLimit-Reset = %q, want Unix seconds", reset)
	}
}

func BenchmarkAllowLeader(b *testing.B) {
	shared := &sharedLog{fsm: state.New()}
	r := &fakeRaft{log: shared}
	r.leader.Store(true)
	l, err := New(DefaultConfig(), r, shared.fsm)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	l.cfg.Enterprise = Limits{} // no limit, so every request takes the full path
	var ctx fasthttp.RequestCtx
	b.ReportAllocs()
	for b.Loop() {
		d, _ := l.Allow(context.Background(), "k", state.PlanEnterprise)
		WriteHeaders(&ctx.Response.Header, d)
	}
}
