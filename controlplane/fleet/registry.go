package fleet

import (
	"cmp"
	"maps"
	"slices"
	"time"

	"github.com/yoloplane/yoloplane/shared/wire"
)

// nodeInfo is the last heartbeat of a node and when it arrived.
type nodeInfo struct {
	hb   wire.Heartbeat
	seen time.Time
}

// forgetAfter is how many TTLs a silent node stays in the registry, so that
// status messages can still name it, before it is dropped.
const forgetAfter = 100

// Node is a data-plane node as the registry sees it.
type Node struct {
	ID       string
	Region   string
	HTTPAddr string
	Capacity int
	Load     float64
	Live     bool
	LastSeen time.Time
	// Deployments maps deployment ID to the state the node reported.
	Deployments map[string]string
}

// Observe records a heartbeat. It is called from the heartbeat route and
// by tests.
func (s *Service) Observe(hb wire.Heartbeat) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.nodes[hb.NodeID] = &nodeInfo{hb: hb, seen: now}
	for id, n := range s.nodes {
		if now.Sub(n.seen) > forgetAfter*s.cfg.NodeTTL {
			delete(s.nodes, id)
		}
	}
}

// Nodes returns every node in the registry sorted by ID.
func (s *Service) Nodes() []Node {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	out := make([]Node, 0, len(s.nodes))
	for _, n := range s.nodes {
		out = append(out, s.nodeLocked(n, now))
	}
	slices.SortFunc(out, func(a, b Node) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

func (s *Service) nodeLocked(n *nodeInfo, now time.Time) Node {
	return Node{
		ID: n.hb.NodeID, Region: n.hb.Region, HTTPAddr: n.hb.HTTPAddr, Capacity: n.hb.Capacity,
		Load: n.hb.Load, Live: now.Sub(n.seen) <= s.cfg.NodeTTL, LastSeen: n.seen,
		Deployments: maps.Clone(n.hb.Deployments),
	}
}

// node returns one node of the registry.
func (s *Service) node(id string) (Node, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.nodes[id]
	if !ok {
		return Node{}, false
	}
	return s.nodeLocked(n, s.now()), true
}

// nodeError returns the reason a node gave for a failed deployment.
func (s *Service) nodeError(nodeID, deploymentID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n, ok := s.nodes[nodeID]; ok {
		return n.hb.Errors[deploymentID]
	}
	return ""
}

// nodeVersion returns the fleet state version a node reported serving.
func (s *Service) nodeVersion(nodeID string) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n, ok := s.nodes[nodeID]; ok {
		return n.hb.StateVersion
	}
	return 0
}

// ServingAddrs returns the HTTP addresses of the live nodes that report a
// deployment ready, or replacing while the previous revision serves, in
// placement order. The REST API proxies predicts to
// them.
func (s *Service) ServingAddrs(deploymentID string, nodeIDs []string) []string {
	var out []string
	for _, id := range nodeIDs {
		n, ok := s.node(id)
		st := n.Deployments[deploymentID]
		if ok && n.Live && (st == wire.ModelReady || st == wire.ModelReplacing) {
			out = append(out, n.HTTPAddr)
		}
	}
	return out
}

// NodeAddr returns the HTTP address of a node in the registry.
func (s *Service) NodeAddr(nodeID string) (string, bool) {
	n, ok := s.node(nodeID)
	return n.HTTPAddr, ok
}
