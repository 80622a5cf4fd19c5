package state

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Commands and snapshot records of the cluster layer: the HTTP address of
// each voter and the per-key daily request counts of the rate limiter.
// Numbers from 40 up keep them apart from the resource commands.
const (
	CmdSetNodeAddr CommandType = 40
	CmdRecordUsage CommandType = 41
)

const (
	RecordNodeAddr RecordType = 40
	RecordDayUsage RecordType = 41
)

// dayLayout is the form of DayUsage.Day: a UTC calendar date.
const dayLayout = time.DateOnly

// SetNodeAddr records the HTTP address a voter serves the API and the
// internal cluster routes on, so that followers can forward writes to
// whichever voter leads.
type SetNodeAddr struct {
	NodeID   string `json:"nodeId"`
	HTTPAddr string `json:"httpAddr"`
}

// NodeAddr is one voter's HTTP address as stored by SetNodeAddr.
type NodeAddr struct {
	NodeID   string `json:"nodeId"`
	HTTPAddr string `json:"httpAddr"`
}

// RecordUsage stores the request totals of API keys for one UTC day, so
// that a new rate-limit leader resumes the day's counts. Counts are totals,
// not deltas, and only raise a stored count, so a retried proposal is
// harmless. Counts of days before Day are dropped.
type RecordUsage struct {
	Day    string           `json:"day"`
	Counts map[string]int64 `json:"counts"`
}

// DayUsage is the request total of one API key on one UTC day.
type DayUsage struct {
	KeyID string `json:"keyId"`
	Day   string `json:"day"`
	Count int64  `json:"count"`
}

func (*SetNodeAddr) CommandType() CommandType { return CmdSetNodeAddr }
func (*RecordUsage) CommandType() CommandType { return CmdRecordUsage }

// clusterTables contains the records of the cluster layer. Its fields are
// exported only so that go-cmp compares them in the snapshot tests.
type clusterTables struct {
	Nodes map[string]NodeAddr // by node ID
	Usage map[string]DayUsage // by key ID, one day per key
}

func newClusterTables() clusterTables {
	return clusterTables{Nodes: map[string]NodeAddr{}, Usage: map[string]DayUsage{}}
}

func (t *tables) applySetNodeAddr(c *SetNodeAddr) (NodeAddr, error) {
	if c.NodeID == "" || len(c.NodeID) > 256 {
		return NodeAddr{}, fmt.Errorf("%w: node ID %q must be 1 to 256 bytes", ErrInvalid, c.NodeID)
	}
	if c.HTTPAddr == "" || len(c.HTTPAddr) > 256 {
		return NodeAddr{}, fmt.Errorf("%w: HTTP address %q of node %q must be 1 to 256 bytes", ErrInvalid, c.HTTPAddr, c.NodeID)
	}
	a := NodeAddr(*c)
	t.cluster.Nodes[a.NodeID] = a
	return a, nil
}

// applyRecordUsage returns the number of keys whose count it raised.
func (t *tables) applyRecordUsage(c *RecordUsage) (int, error) {
	if _, err := time.Parse(dayLayout, c.Day); err != nil {
		return 0, fmt.Errorf("%w: usage day %q is not a date of the form 2006-01-02", ErrInvalid, c.Day)
	}
	// Dates of one layout compare as strings, and the outcome of the
	// deletions does not depend on the order the map is visited in.
	for id, u := range t.cluster.Usage {
		if u.Day < c.Day {
			delete(t.cluster.Usage, id)
		}
	}
	raised := 0
	for id, n := range c.Counts {
		u, ok := t.cluster.Usage[id]
		if ok && (u.Day > c.Day || u.Count >= n) {
			continue
		}
		t.cluster.Usage[id] = DayUsage{KeyID: id, Day: c.Day, Count: n}
		raised++
	}
	return raised, nil
}

// NodeHTTPAddr returns the HTTP address recorded for a voter.
func (f *FSM) NodeHTTPAddr(nodeID string) (string, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	a, ok := f.t.cluster.Nodes[nodeID]
	return a.HTTPAddr, ok
}

// DayCount returns the recorded request total of keyID on day (UTC,
// 2006-01-02), or 0 when none is recorded.
func (f *FSM) DayCount(keyID, day string) int64 {
	f.mu.RLock()
	defer f.mu.RUnlock()
	u, ok := f.t.cluster.Usage[keyID]
	if !ok || u.Day != day {
		return 0
	}
	return u.Count
}

// DayKey returns the DayUsage.Day form of t.
func DayKey(t time.Time) string { return t.UTC().Format(dayLayout) }

func (c *clusterTables) sortedNodeAddrs() []NodeAddr {
	return slices.SortedFunc(maps.Values(c.Nodes), func(a, b NodeAddr) int { return cmp.Compare(a.NodeID, b.NodeID) })
}

func (c *clusterTables) sortedDayUsage() []DayUsage {
	return slices.SortedFunc(maps.Values(c.Usage), func(a, b DayUsage) int { return cmp.Compare(a.KeyID, b.KeyID) })
}

func (c *clusterTables) loadNodeAddr(a NodeAddr) error {
	if _, ok := c.Nodes[a.NodeID]; ok {
		return fmt.Errorf("%w: node %q appears twice", ErrConflict, a.NodeID)
	}
	c.Nodes[a.NodeID] = a
	return nil
}

func (c *clusterTables) loadDayUsage(u DayUsage) error {
	if _, ok := c.Usage[u.KeyID]; ok {
		return fmt.Errorf("%w: usage of key %q appears twice", ErrConflict, u.KeyID)
	}
	c.Usage[u.KeyID] = u
	return nil
}

func newClusterCommand(t CommandType) Command {
	switch t {
	case CmdSetNodeAddr:
		return &SetNodeAddr{}
	case CmdRecordUsage:
		return &RecordUsage{}
	}
	return nil
}

func (t *tables) dispatchCluster(cmd Command) any {
	switch c := cmd.(type) {
	case *SetNodeAddr:
		return result(t.applySetNodeAddr(c))
	case *RecordUsage:
		return result(t.applyRecordUsage(c))
	}
	panic(fmt.Sprintf("BUG: command type %d is not a cluster command", cmd.CommandType()))
}
