package node

import (
	"context"
	"maps"
	"time"

	"github.com/yoloplane/yoloplane/dataplane/gossip"
	"github.com/yoloplane/yoloplane/shared/wire"
)

// heartbeatLoop sends a heartbeat every HeartbeatInterval until ctx ends,
// and updates the load the node gossips.
func (n *Node) heartbeatLoop(ctx context.Context) {
	tick := time.NewTicker(n.cfg.HeartbeatInterval)
	defer tick.Stop()
	failures := 0
	for {
		n.sendHeartbeat(ctx, &failures)
		n.publishLoad()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (n *Node) sendHeartbeat(ctx context.Context, failures *int) {
	hb := n.heartbeat()
	var reply wire.HeartbeatReply
	err := n.cp.postJSON(ctx, n.cfg.RequestTimeout, wire.PathHeartbeat, hb, &reply)
	if err != nil {
		*failures++
		if ctx.Err() == nil && (*failures == 1 || *failures%30 == 0) {
			n.log.Warn("heartbeat failed, retrying", "subsystem", "heartbeat", "failures", *failures, "error", err)
		}
		return
	}
	if *failures > 0 {
		n.log.Info("heartbeat delivered again", "subsystem", "heartbeat", "failures", *failures)
		*failures = 0
	}
	if reply.Version > hb.StateVersion {
		// The watch may be sleeping in its backoff: wake it to fetch the
		// newer state now.
		select {
		case n.wakeWatch <- struct{}{}:
		default:
		}
	}
}

// heartbeat builds the node's report from the deployment runtimes.
func (n *Node) heartbeat() wire.Heartbeat {
	hb := wire.Heartbeat{
		NodeID:       n.cfg.NodeID,
		Region:       n.cfg.Region,
		HTTPAddr:     n.httpAddr,
		GossipAddr:   n.gossipAddr(),
		Capacity:     n.cfg.Capacity,
		Load:         n.loadFactor(),
		Deployments:  make(map[string]string),
		StateVersion: n.appliedVersion(),
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	for id, rt := range n.deploys {
		if rt.status == statusStopped {
			continue
		}
		hb.Deployments[id] = rt.status
		if rt.status == wire.ModelWarming && rt.active != nil {
			hb.Deployments[id] = wire.ModelReplacing
		}
		if rt.status == wire.ModelFailed {
			if hb.Errors == nil {
				hb.Errors = make(map[string]string)
			}
			hb.Errors[id] = rt.reason
		}
	}
	return hb
}

// loadFactor is the in-flight predicts per inference slot of the node.
func (n *Node) loadFactor() float64 {
	slots := n.cfg.Predict.Slots * n.cfg.Capacity
	return float64(n.inflight.Load()) / float64(max(slots, 1))
}

func (n *Node) gossipAddr() string {
	if n.pool == nil {
		return ""
	}
	return n.pool.Addr()
}

func (n *Node) publishLoad() {
	if n.pool == nil {
		return
	}
	if err := n.pool.SetLoad(n.loadFactor()); err != nil {
		n.log.Warn("gossip load update failed", "subsystem", "gossip", "error", err)
	}
}

// publishModelsLocked gossips the set of models that serve warm on the
// node. SetModels only queues the update, so it is cheap under n.mu.
func (n *Node) publishModelsLocked() {
	if n.pool == nil {
		return
	}
	models := make(map[string]gossip.ModelState)
	for _, rt := range n.deploys {
		if rt.active != nil && rt.active.ref.ModelID != "" {
			models[rt.active.ref.ModelID] = gossip.ModelReady
		}
	}
	if maps.Equal(models, n.gossipModels) {
		return
	}
	n.gossipModels = models
	if err := n.pool.SetModels(models); err != nil {
		n.log.Warn("gossip model update failed", "subsystem", "gossip", "error", err)
	}
}
