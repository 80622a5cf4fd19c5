package raftnode

import (
	"slices"
	"strings"
	"sync"

	"github.com/hashicorp/raft"
)

// hashicorp/raft replicates new entries only after the leader's own log
// write returns, so every commit waits for two disk writes in a row: the
// leader's, then a follower's. Raft allows a leader to send entries before
// its own write completes, because an entry commits only once a majority
// stored it, and raft counts the leader only after that write returns.
// presendStore uses this: when this node leads, it hands each new batch to
// one follower at once, which writes it while the leader writes its copy.
// When raft's own AppendEntries for the batch arrives, that follower finds
// the entries in its log, skips the write and acknowledges at once.
//
// Only one follower gets batches early: a quorum of three needs one. The
// other keeps raft's timing and starts its write when the leader's ends.
// Sending to both made all three writes compete for the disk and lowered
// throughput under load (see presendFollowers).
type presendStore struct {
	raft.LogStore
	n *Node
}

// StoreLogs starts sending logs to a follower, then stores them.
func (s *presendStore) StoreLogs(logs []*raft.Log) error {
	s.n.presend(logs)
	return s.LogStore.StoreLogs(logs)
}

// StoreLog stores one entry through StoreLogs.
func (s *presendStore) StoreLog(l *raft.Log) error {
	return s.StoreLogs([]*raft.Log{l})
}

// maxPresendEntries bounds the entries waiting to be sent early. Under a
// burst larger than that, raft's pipelined replication carries the
// entries, and early sending would only encode them twice.
const maxPresendEntries = 64

// presender contains, per follower that gets batches early, the entries
// waiting for its sending goroutine and what is known of its log.
type presender struct {
	mu      sync.Mutex
	targets map[string]*presendTarget // by follower ID
}

type presendTarget struct {
	addr    string
	pending []*raft.Log // contiguous entries not yet sent
	running bool        // a sendPresends goroutine is active
	// sentThrough is the last index sent in a request that the follower
	// accepted. followerLast is the follower's last log index in its
	// latest response. A batch goes out only when its previous entry is
	// at or below one of them, so that the follower has that entry and
	// does not log a mismatch.
	sentThrough  uint64
	followerLast uint64
}

// presend queues logs for the early followers when this node leads in the
// term of logs.
func (n *Node) presend(logs []*raft.Log) {
	if len(logs) == 0 || !n.started.Load() || !n.IsLeader() || n.raft.CurrentTerm() != logs[0].Term {
		return
	}
	targets := n.presendTargets()
	p := &n.presender
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.targets == nil {
		p.targets = make(map[string]*presendTarget)
	}
	for id := range p.targets {
		if _, ok := targets[id]; !ok {
			delete(p.targets, id)
		}
	}
	for id, addr := range targets {
		t := p.targets[id]
		if t == nil || t.addr != addr {
			t = &presendTarget{addr: addr}
			p.targets[id] = t
		}
		if len(t.pending) > 0 && t.pending[len(t.pending)-1].Index+1 != logs[0].Index {
			t.pending, t.sentThrough = nil, 0
		}
		if len(t.pending)+len(logs) > maxPresendEntries {
			t.pending, t.sentThrough = nil, 0
			continue
		}
		t.pending = append(t.pending, logs...)
		if !t.running {
			t.running = true
			go n.sendPresends(id, t)
		}
	}
}

// sendPresends sends t's pending entries, one request at a time so that
// they reach the follower in order, until none are left.
func (n *Node) sendPresends(id string, t *presendTarget) {
	p := &n.presender
	for {
		p.mu.Lock()
		logs, addr := t.pending, t.addr
		t.pending = nil
		if len(logs) == 0 {
			t.running = false
			p.mu.Unlock()
			return
		}
		ready := t.ready(logs)
		p.mu.Unlock()
		if !ready {
			// Ask for the follower's last index, and send the batch only
			// if the follower has the entry before it.
			resp, err := n.sendEntries(id, addr, logs[0].Term, nil)
			p.record(t, resp, err, 0)
			p.mu.Lock()
			ready = t.ready(logs)
			p.mu.Unlock()
			if !ready {
				continue
			}
		}
		resp, err := n.sendEntries(id, addr, logs[0].Term, logs)
		p.record(t, resp, err, logs[len(logs)-1].Index)
	}
}

// ready reports whether the follower has the entry before logs. The caller
// holds the presender's lock.
func (t *presendTarget) ready(logs []*raft.Log) bool {
	prev := logs[0].Index - 1
	return prev == 0 || prev == t.sentThrough || prev <= t.followerLast
}

// record updates what is known of t's log from a response to a request
// that carried entries through last (0 for none).
func (p *presender) record(t *presendTarget, resp *raft.AppendEntriesResponse, err error, last uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case err != nil:
		t.sentThrough, t.followerLast = 0, 0
	case resp.Success && last > 0:
		t.sentThrough, t.followerLast = last, resp.LastLog
	default:
		t.sentThrough, t.followerLast = 0, resp.LastLog
	}
}

// presendTargets returns the IDs and addresses of the voters, other than
// this node, that get batches early.
func (n *Node) presendTargets() map[string]string {
	servers := n.raft.GetConfiguration().Configuration().Servers
	servers = slices.DeleteFunc(slices.Clone(servers), func(s raft.Server) bool {
		return s.Suffrage != raft.Voter || string(s.ID) == n.cfg.NodeID
	})
	slices.SortFunc(servers, func(a, b raft.Server) int { return strings.Compare(string(a.ID), string(b.ID)) })
	if len(servers) > presendFollowers {
		servers = servers[:presendFollowers]
	}
	out := make(map[string]string, len(servers))
	for _, s := range servers {
		out[string(s.ID)] = string(s.Address)
	}
	return out
}

// presendFollowers is how many followers get batches early. One is enough
// for a quorum of three. Sending to every follower made all three disk
// writes of a batch compete, and cost throughput under load.
const presendFollowers = 1

// sendEntries sends logs to a follower in one AppendEntries, with the
// previous entry read from this node's log and the current commit index.
// With no logs it sends a probe instead: no previous entry and no commit
// index. The follower accepts it whatever its log contains and returns
// its last index.
func (n *Node) sendEntries(id, addr string, term uint64, logs []*raft.Log) (*raft.AppendEntriesResponse, error) {
	req := n.appendRequest(term)
	if len(logs) > 0 {
		prev := raft.Log{Index: logs[0].Index - 1}
		if prev.Index > 0 {
			if err := n.logs.GetLog(prev.Index, &prev); err != nil {
				return nil, err
			}
		}
		req.PrevLogEntry, req.PrevLogTerm = prev.Index, prev.Term
		req.Entries = logs
		req.LeaderCommitIndex = n.raft.CommitIndex()
	}
	var resp raft.AppendEntriesResponse
	if err := n.trans.AppendEntries(raft.ServerID(id), raft.ServerAddress(addr), req, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// appendRequest returns an AppendEntries request from this node as the
// leader of term, with no entries yet.
func (n *Node) appendRequest(term uint64) *raft.AppendEntriesRequest {
	self := n.trans.EncodePeer(raft.ServerID(n.cfg.NodeID), n.trans.LocalAddr())
	return &raft.AppendEntriesRequest{
		RPCHeader: raft.RPCHeader{
			ProtocolVersion: raft.ProtocolVersionMax,
			ID:              []byte(n.cfg.NodeID),
			Addr:            self,
		},
		Term:   term,
		Leader: self,
	}
}
