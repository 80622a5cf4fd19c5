package ratelimit

import (
	"context"
	"fmt"
	"time"
)

// callTimeout bounds one follower call to the leader. A leader that does not
// respond within it is treated as gone.
const callTimeout = 2 * time.Second

// pending is one follower request waiting for the leader's decision.
type pending struct {
	ctx  context.Context
	req  Request
	done chan result
}

type result struct {
	d   Decision
	err error
}

// ask queues req for the workers, which send queued requests to the leader
// in batches: a worker takes every request queued while the previous call
// was in flight, so batches grow with load and a lone request goes at once.
func (l *Limiter) ask(ctx context.Context, req Request) (Decision, error) {
	p := &pending{ctx: ctx, req: req, done: make(chan result, 1)}
	select {
	case l.queue <- p:
	case <-ctx.Done():
		return Decision{}, ctx.Err()
	case <-l.stop:
		return Decision{}, fmt.Errorf("%w: limiter closed", ErrUnavailable)
	}
	select {
	case r := <-p.done:
		return r.d, r.err
	case <-ctx.Done():
		return Decision{}, ctx.Err()
	}
}

func (l *Limiter) work() {
	batch := make([]*pending, 0, l.cfg.MaxBatch)
	for {
		select {
		case p := <-l.queue:
			batch = append(batch[:0], p)
		case <-l.stop:
			return
		}
		batch = l.fill(batch)
		l.send(batch)
	}
}

// fill adds queued requests to batch without waiting.
func (l *Limiter) fill(batch []*pending) []*pending {
	for len(batch) < l.cfg.MaxBatch {
		select {
		case p := <-l.queue:
			batch = append(batch, p)
		default:
			return batch
		}
	}
	return batch
}

// send requests the decisions of batch from the leader. Requests whose caller
// gave up are left out, so they consume no quota.
func (l *Limiter) send(batch []*pending) {
	live := batch[:0]
	for _, p := range batch {
		if err := p.ctx.Err(); err != nil {
			p.done <- result{err: err}
			continue
		}
		live = append(live, p)
	}
	if len(live) == 0 {
		return
	}
	reqs := make([]Request, len(live))
	for i, p := range live {
		reqs[i] = p.req
	}
	// The batch serves many callers, so no single caller's context may
	// cancel it. A caller that gives up during the call may still be
	// counted.
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	ds, err := l.call(ctx, reqs)
	cancel()
	for i, p := range live {
		if err != nil {
			p.done <- result{err: err}
			continue
		}
		p.done <- result{d: ds[i]}
	}
}

func (l *Limiter) call(ctx context.Context, reqs []Request) ([]Decision, error) {
	l.mu.Lock()
	remote := l.remote
	l.mu.Unlock()
	if remote == nil {
		return nil, fmt.Errorf("%w: no route to the leader is installed", ErrUnavailable)
	}
	ds, err := remote(ctx, reqs)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if len(ds) != len(reqs) {
		return nil, fmt.Errorf("%w: leader returned %d decisions for %d requests", ErrUnavailable, len(ds), len(reqs))
	}
	return ds, nil
}
