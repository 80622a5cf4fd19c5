package fleet

import (
	"context"
	"time"

	"github.com/yoloplane/yoloplane/controlplane/ratelimit"
	"github.com/yoloplane/yoloplane/controlplane/state"
	"github.com/yoloplane/yoloplane/shared/wire"
)

// UsageTotal sums the usage nodes reported for one deployment since this
// voter started.
type UsageTotal struct {
	Requests int64
	Errors   int64
}

// AddUsage adds a batch to the in-memory totals.
// TODO: totals live only in this voter's memory, so they reset on restart
// and each voter counts only the batches sent to it; billing needs them
// committed through Raft.
func (s *Service) AddUsage(b wire.UsageBatch) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range b.Entries {
		t := s.usage[u.DeploymentID]
		t.Requests += max(u.Requests, 0)
		t.Errors += max(u.Errors, 0)
		s.usage[u.DeploymentID] = t
	}
}

// Usage returns the totals of one deployment.
func (s *Service) Usage(deploymentID string) UsageTotal {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.usage[deploymentID]
}

// maxLease bounds one lease so that a node cannot take a key's whole
// minute at once and starve the other nodes.
const maxLease = 100

// Lease grants up to req.Want requests of a key. With the cluster rate
// limiter each granted request is counted there, so leases and direct API
// calls share one budget.
func (s *Service) Lease(ctx context.Context, req wire.QuotaRequest) (wire.QuotaGrant, error) {
	want := min(req.Want, maxLease)
	plan := state.Plan(req.Plan)
	if s.limiter == nil {
		return s.leaseLocal(req.KeyID, plan, want), nil
	}
	var g wire.QuotaGrant
	for range want {
		d, err := s.limiter.Allow(ctx, req.KeyID, plan)
		if err != nil {
			if g.Granted > 0 {
				return g, nil
			}
			return wire.QuotaGrant{}, err
		}
		g.Limit, g.Remaining, g.ResetUnix = int(d.Limit), int(d.Remaining), d.Reset.Unix()
		if !d.Allowed {
			if g.Granted == 0 {
				g.RetryAfterSeconds = max(1, int(d.RetryAfter.Round(time.Second).Seconds()))
			}
			break
		}
		g.Granted++
	}
	return g, nil
}

// quotaWindow counts the requests of a key in the current minute.
type quotaWindow struct {
	start time.Time
	used  int64
}

func (s *Service) leaseLocal(keyID string, plan state.Plan, want int) wire.QuotaGrant {
	limit := ratelimit.FreeLimits.PerMinute
	switch plan {
	case state.PlanPro:
		limit = ratelimit.ProLimits.PerMinute
	case state.PlanEnterprise:
		limit = 1 << 30
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	w := s.quota[keyID]
	if w == nil || now.Sub(w.start) >= time.Minute {
		w = &quotaWindow{start: now}
		s.quota[keyID] = w
	}
	granted := min(int64(want), limit-w.used)
	granted = max(granted, 0)
	w.used += granted
	reset := w.start.Add(time.Minute)
	g := wire.QuotaGrant{Granted: int(granted), Limit: int(limit), Remaining: int(limit - w.used), ResetUnix: reset.Unix()}
	if granted == 0 {
		g.RetryAfterSeconds = max(1, int(reset.Sub(now).Round(time.Second).Seconds()))
	}
	return g
}
