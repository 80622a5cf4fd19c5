package node

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/yoloplane/yoloplane/shared/wire"
)

// follow long-polls the control plane for fleet states until ctx ends. On
// errors it backs off and the node keeps serving from the view it has.
func (n *Node) follow(ctx context.Context) {
	log := n.log.With("subsystem", "watch")
	backoff := n.cfg.BackoffMin
	failures := 0
	for ctx.Err() == nil {
		st, err := n.cp.watch(ctx, n.appliedVersion(), n.cfg.Region, n.cfg.watchTimeout())
		switch {
		case err == nil:
			n.markReachable(log, &failures)
			backoff = n.cfg.BackoffMin
			n.apply(*st, time.Now())
		case errors.Is(err, errNotModified):
			n.markReachable(log, &failures)
			backoff = n.cfg.BackoffMin
		case ctx.Err() != nil:
			return
		default:
			failures++
			n.cpUnreachable.Store(true)
			wait := jitter(backoff)
			// The first failure and every tenth retry are logged, so an
			// outage does not flood the log.
			if failures == 1 || failures%10 == 0 {
				log.Warn("watch failed, retrying", "error", err, "failures", failures, "retry_in", wait)
			}
			backoff = min(2*backoff, n.cfg.BackoffMax)
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			case <-n.wakeWatch:
			}
		}
	}
}

func (n *Node) markReachable(log *slog.Logger, failures *int) {
	n.cpUnreachable.Store(false)
	n.lastContact.Store(time.Now().UnixNano())
	if *failures > 0 {
		log.Info("control plane reachable again", "failures", *failures)
		*failures = 0
	}
}

// jitter returns a duration in [d/2, d), so that nodes that lost the
// control plane together do not retry in lockstep.
func jitter(d time.Duration) time.Duration {
	half := d / 2
	if half <= 0 {
		return d
	}
	return half + rand.N(half)
}

func (n *Node) appliedVersion() uint64 {
	if v := n.view.Load(); v != nil {
		return v.state.Version
	}
	return 0
}

// apply installs a fleet state received from the control plane, persists
// it and triggers the reconciler. A state older than the applied one is
// ignored. NOTE: so a control plane whose versions restart below the
// applied one, after its data was wiped, is never followed until the
// node's data directory is wiped too.
func (n *Node) apply(st wire.FleetState, receivedAt time.Time) {
	if old := n.view.Load(); old != nil && st.Version < old.state.Version {
		n.log.Warn("ignored an older fleet state", "subsystem", "watch", "version", st.Version, "applied_version", old.state.Version)
		return
	}
	n.view.Store(newView(st, receivedAt))
	n.log.Info("applied fleet state", "subsystem", "watch", "version", st.Version,
		"deployments", len(st.Deployments), "keys", len(st.Keys))
	if err := saveState(n.cfg.DataDir, st, receivedAt); err != nil {
		n.log.Error("persist fleet state failed", "subsystem", "watch", "version", st.Version, "error", err)
	}
	n.triggerReconcile()
}
