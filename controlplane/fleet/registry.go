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
	// suspect is when a forwarded call last failed to reach the node, or
	// zero. A heartbeat that arrives later clears it.
	suspect time.Time
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
		Load: n.hb.Load, Live: s.liveLocked(n, now), LastSeen: n.seen,
		Deployments: maps.Clone(n.hb.Deployments),
	}
}

// liveLocked reports whether a node counts as live: it heartbeat within
// NodeTTL, and it is not a suspect that has been silent for half of it. A
// suspect that still heartbeats stays live, so one refused connection to a
// healthy node does not move its deployments.
func (s *Service) liveLocked(n *nodeInfo, now time.Time) bool {
	silent := now.Sub(n.seen)
	if !n.suspect.IsZero() && silent > s.cfg.NodeTTL/2 {
		return false
	}
	return silent <= s.cfg.NodeTTL
}

// MarkSuspect records that a call to the node at addr failed to connect
// or timed out. Predict routing skips a suspect node until its next
// heartbeat, and placement treats it as lost once it has also been silent
// for half of NodeTTL. Request goroutines call it.
func (s *Service) MarkSuspect(addr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.nodes {
		if n.hb.HTTPAddr == addr {
			n.suspect = s.now()
		}
	}
}

func (s *Service) isSuspect(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.nodes[id]
	return ok && !n.suspect.IsZero()
}

// sortByLoad orders nodes by reported load, then by ID.
func sortByLoad(nodes []Node) {
	slices.SortStableFunc(nodes, func(a, b Node) int {
		if c := cmp.Compare(a.Load, b.Load); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
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
// placement order with suspect nodes last. The REST API proxies predicts
// to them and tries the next on a connection error.
func (s *Service) ServingAddrs(deploymentID string, nodeIDs []string) []string {
	var out, suspects []string
	for _, id := range nodeIDs {
		n, ok := s.node(id)
		st := n.Deployments[deploymentID]
		if !ok || !n.Live || (st != wire.ModelReady && st != wire.ModelReplacing) {
			continue
		}
		if s.isSuspect(id) {
			suspects = append(suspects, n.HTTPAddr)
		} else {
			out = append(out, n.HTTPAddr)
		}
	}
	return append(out, suspects...)
}

// NodeAddr returns the HTTP address of a node in the registry.
func (s *Service) NodeAddr(nodeID string) (string, bool) {
	n, ok := s.node(nodeID)
	return n.HTTPAddr, ok
}
