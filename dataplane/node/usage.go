package node

import (
	"context"
	"sync"
	"time"

	"github.com/yoloplane/yoloplane/shared/wire"
)

type usageKey struct{ deploymentID, keyID string }

type usageCount struct{ requests, errors int64 }

// usage accumulates predict counts per deployment and key until the next
// batch goes to the control plane. It is safe for concurrent use.
type usage struct {
	mu     sync.Mutex
	counts map[usageKey]usageCount
}

func (u *usage) add(deploymentID, keyID string, failed bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	k := usageKey{deploymentID, keyID}
	c := u.counts[k]
	c.requests++
	if failed {
		c.errors++
	}
	u.counts[k] = c
}

// take removes and returns the counts collected so far.
func (u *usage) take() []wire.Usage {
	u.mu.Lock()
	counts := u.counts
	u.counts = make(map[usageKey]usageCount)
	u.mu.Unlock()
	out := make([]wire.Usage, 0, len(counts))
	for k, c := range counts {
		out = append(out, wire.Usage{DeploymentID: k.deploymentID, KeyID: k.keyID, Requests: c.requests, Errors: c.errors})
	}
	return out
}

// putBack returns counts whose batch failed, to go out with the next one.
func (u *usage) putBack(entries []wire.Usage) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, e := range entries {
		k := usageKey{e.DeploymentID, e.KeyID}
		c := u.counts[k]
		c.requests += e.Requests
		c.errors += e.Errors
		u.counts[k] = c
	}
}

// usageLoop sends a usage batch every UsageInterval until ctx ends.
func (n *Node) usageLoop(ctx context.Context) {
	tick := time.NewTicker(n.cfg.UsageInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			n.flushUsage(ctx)
		}
	}
}

// flushUsage sends the collected counts. On failure it keeps them for the
// next batch, so that an outage delays usage but loses none of it.
func (n *Node) flushUsage(ctx context.Context) {
	entries := n.usage.take()
	if len(entries) == 0 {
		return
	}
	batch := wire.UsageBatch{NodeID: n.cfg.NodeID, Entries: entries}
	if err := n.cp.postJSON(ctx, n.cfg.RequestTimeout, wire.PathUsage, batch, nil); err != nil {
		// NOTE: a batch the control plane applied before the response was
		// lost is sent again, so usage can be counted twice. Batches carry
		// no ID the control plane could deduplicate on.
		n.usage.putBack(entries)
		n.log.Warn("send usage failed, keeping it for the next batch", "subsystem", "usage", "entries", len(entries), "error", err)
	}
}
