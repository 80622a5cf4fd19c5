package fleet

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/yoloplane/yoloplane/controlplane/state"
	"github.com/yoloplane/yoloplane/shared/wire"
)

// reconcile runs one placement pass when this voter leads. A voter that
// just became leader waits one NodeTTL first, because its registry fills
// only as nodes heartbeat and every node would look dead before that.
func (s *Service) reconcile(ctx context.Context) {
	if !s.leading() {
		return
	}
	live := s.liveByRegion()
	load := map[string]int{}
	deps := s.fsm.Deployments("")
	for _, d := range deps {
		for _, n := range d.Nodes {
			load[n]++
		}
	}
	for _, d := range deps {
		if d.Desired != state.DesiredRunning {
			continue
		}
		if cmd := s.decide(d, live[d.Region], load); cmd != nil {
			s.propose(ctx, d, cmd)
		}
	}
}

func (s *Service) leading() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if !s.raft.IsLeader() {
		s.leaderSince = time.Time{}
		return false
	}
	if s.leaderSince.IsZero() {
		s.leaderSince = now
	}
	return now.Sub(s.leaderSince) >= s.cfg.NodeTTL || s.anyNodeSeenLocked()
}

// anyNodeSeenLocked lets a fresh leader act at once when nodes already
// heartbeat to it, as in a single-voter cluster that just started.
func (s *Service) anyNodeSeenLocked() bool {
	for _, n := range s.nodes {
		if !n.seen.Before(s.leaderSince) {
			return true
		}
	}
	return false
}

// liveByRegion returns the live nodes of each region.
func (s *Service) liveByRegion() map[string][]Node {
	out := map[string][]Node{}
	for _, n := range s.Nodes() {
		if n.Live && n.Capacity > 0 {
			out[n.Region] = append(out[n.Region], n)
		}
	}
	return out
}

// decide returns the command that moves d toward its desired state, or nil
// when it is where it should be. load counts the deployments placed on
// each node and is updated when decide places one.
func (s *Service) decide(d state.Deployment, live []Node, load map[string]int) state.Command {
	now := s.now().UTC()
	var serving []Node
	var lost []string
	for _, id := range d.Nodes {
		if i := slices.IndexFunc(live, func(n Node) bool { return n.ID == id }); i >= 0 {
			serving = append(serving, live[i])
		} else {
			lost = append(lost, id)
		}
	}
	if len(serving) == 0 {
		return s.place(d, live, load, lost, now)
	}
	status, msg := s.reported(d, serving)
	if status == d.Status && (msg == d.StatusMessage || status == state.DeploymentDeploying) {
		return nil
	}
	return &state.SetDeploymentStatus{DeploymentID: d.ID, Revision: d.Revision, Status: status, Message: msg, UpdatedAt: now}
}

// place picks the least loaded live node with free capacity, by ID on a
// tie so that every leader picks the same one.
func (s *Service) place(d state.Deployment, live []Node, load map[string]int, lost []string, now time.Time) state.Command {
	var best *Node
	for i := range live {
		n := &live[i]
		if load[n.ID] >= n.Capacity {
			continue
		}
		if best == nil || load[n.ID] < load[best.ID] || (load[n.ID] == load[best.ID] && n.Load < best.Load) {
			best = n
		}
	}
	msg := ""
	if len(lost) > 0 {
		msg = fmt.Sprintf("moved from node %s after it stopped heartbeating", lost[0])
	}
	if best == nil {
		msg = fmt.Sprintf("waiting for a data-plane node with free capacity in region %s", d.Region)
		if len(lost) > 0 {
			msg = fmt.Sprintf("node %s stopped heartbeating and no other node in region %s has free capacity", lost[0], d.Region)
		}
		if len(d.Nodes) == 0 && d.Status == state.DeploymentDeploying && d.StatusMessage == msg {
			return nil
		}
		return &state.PlaceDeployment{DeploymentID: d.ID, Revision: d.Revision, Status: state.DeploymentDeploying, Message: msg, UpdatedAt: now}
	}
	load[best.ID]++
	for _, id := range d.Nodes {
		load[id]--
	}
	return &state.PlaceDeployment{DeploymentID: d.ID, Revision: d.Revision, Nodes: []string{best.ID},
		Status: state.DeploymentDeploying, Message: msg, UpdatedAt: now}
}

// reported folds what the serving nodes report into one status: ready when
// any node serves the current revision, failed when one failed to load it,
// deploying otherwise. A node's report counts for the current revision only
// once the node applied a fleet state that contains it.
func (s *Service) reported(d state.Deployment, serving []Node) (string, string) {
	need := s.pub.revisionVersion(d.ID, d.Revision)
	status, msg := state.DeploymentDeploying, d.StatusMessage
	for _, n := range serving {
		if s.nodeVersion(n.ID) < need {
			continue
		}
		switch n.Deployments[d.ID] {
		case wire.ModelReady:
			return state.DeploymentReady, ""
		case wire.ModelFailed:
			status, msg = state.DeploymentFailed, fmt.Sprintf("node %s failed to load the model: %s", n.ID, s.nodeError(n.ID, d.ID))
		}
	}
	return status, msg
}

func (s *Service) propose(ctx context.Context, d state.Deployment, cmd state.Command) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.CallTimeout)
	defer cancel()
	if _, err := s.raft.Apply(ctx, cmd); err != nil {
		s.log.Warn("deployment update failed", "deployment_id", d.ID, "command", cmd.CommandType(), "error", err)
		return
	}
	switch c := cmd.(type) {
	case *state.PlaceDeployment:
		s.log.Info("deployment placed", "deployment_id", d.ID, "nodes", c.Nodes, "status", c.Status, "message", c.Message)
	case *state.SetDeploymentStatus:
		s.log.Info("deployment status changed", "deployment_id", d.ID, "status", c.Status, "message", c.Message)
	}
}
