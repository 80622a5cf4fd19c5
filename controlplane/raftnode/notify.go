package raftnode

import (
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// A follower learns that an entry committed only from the leader's next
// AppendEntries, which hashicorp/raft sends when new entries arrive or
// after CommitTimeout. A follower that forwarded a write, or asked for a
// read index, waits for its own state to reach the entry before it
// replies, so on a quiet cluster it would wait CommitTimeout every time.
// NotifyCommitted sends that follower an AppendEntries without entries at
// once: the request raft itself sends when it has nothing new.

// A notification that reaches a follower before the entry does is sent
// again after notifyRetry, up to notifyTries times in all.
const (
	notifyTries = 5
	notifyRetry = 2 * time.Millisecond
)

// commitNotifier keeps at most one notification in flight per follower.
// Calls that arrive meanwhile raise the index the next one carries, so a
// busy follower gets one request per round trip, not one per write.
type commitNotifier struct {
	mu      sync.Mutex
	pending map[string]*followerCommit // by follower ID
}

type followerCommit struct {
	addr    string
	index   uint64 // highest index to notify
	sent    uint64 // highest index notified
	running bool
}

// NotifyCommitted sends follower followerID, at Raft address followerAddr,
// the commit index of the entry at index, without waiting for raft's next
// AppendEntries. It returns at once. Only the leader sends anything, and a
// follower that does not have the entry yet rejects the request, after
// which it learns the commit from raft's own replication as before.
func (n *Node) NotifyCommitted(followerID, followerAddr string, index uint64) {
	if followerID == "" || followerID == n.cfg.NodeID || followerAddr == "" || !n.IsLeader() {
		return
	}
	c := &n.notifier
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending == nil {
		c.pending = make(map[string]*followerCommit)
	}
	f := c.pending[followerID]
	if f == nil {
		f = &followerCommit{}
		c.pending[followerID] = f
	}
	f.addr = followerAddr
	f.index = max(f.index, index)
	if !f.running {
		f.running = true
		go n.sendCommits(followerID, f)
	}
}

// sendCommits sends f's pending index until no higher one is waiting.
func (n *Node) sendCommits(followerID string, f *followerCommit) {
	c := &n.notifier
	for {
		c.mu.Lock()
		if f.index <= f.sent {
			f.running = false
			c.mu.Unlock()
			return
		}
		index, addr := f.index, f.addr
		f.sent = index
		c.mu.Unlock()
		n.sendCommit(followerID, addr, index)
	}
}

// sendCommit sends one AppendEntries without entries whose previous entry
// and commit index are both index. The request carries the term of that
// entry, a term in which this node led. A follower that has since seen a
// newer term rejects it, and a follower accepts the commit index only when
// its log holds the same entry. Errors are dropped, because raft's own
// replication delivers the commit index a little later anyway.
func (n *Node) sendCommit(followerID, followerAddr string, index uint64) {
	if !n.IsLeader() {
		return
	}
	var entry raft.Log
	if err := n.logs.GetLog(index, &entry); err != nil {
		return
	}
	req := n.appendRequest(entry.Term)
	req.PrevLogEntry, req.PrevLogTerm = entry.Index, entry.Term
	req.LeaderCommitIndex = entry.Index
	// The entry may still be on its way to the follower, which is why a
	// follower that has not logged it yet gets a few more tries.
	for range notifyTries {
		var resp raft.AppendEntriesResponse
		err := n.trans.AppendEntries(raft.ServerID(followerID), raft.ServerAddress(followerAddr), req, &resp)
		if err != nil || resp.Success || resp.Term != entry.Term || resp.LastLog >= entry.Index {
			return
		}
		time.Sleep(notifyRetry)
	}
}
