package raftnode

import (
	"sync/atomic"

	"github.com/hashicorp/raft"
)

// commitTracker wraps the TCP transport to record the highest commit index
// a leader has sent in AppendEntries. A follower's own commit index is
// capped by its log, so right after a restart it understates what the
// cluster has committed. WaitReady needs the leader's figure instead.
//
// Embedding *raft.NetworkTransport keeps the optional interfaces raft
// checks for (WithClose, WithPreVote). Heartbeats bypass Consumer, which is
// fine because they carry no commit index.
type commitTracker struct {
	*raft.NetworkTransport
	out  chan raft.RPC
	stop chan struct{}

	leaderCommit atomic.Uint64 // highest LeaderCommitIndex received
	appends      atomic.Uint64 // AppendEntries requests received
}

func newCommitTracker(t *raft.NetworkTransport) *commitTracker {
	c := &commitTracker{NetworkTransport: t, out: make(chan raft.RPC), stop: make(chan struct{})}
	go c.relay()
	return c
}

// Consumer returns the channel raft reads incoming RPCs from.
func (c *commitTracker) Consumer() <-chan raft.RPC { return c.out }

func (c *commitTracker) relay() {
	in := c.NetworkTransport.Consumer()
	for {
		select {
		case rpc := <-in:
			c.observe(rpc)
			select {
			case c.out <- rpc:
			case <-c.stop:
				return
			}
		case <-c.stop:
			return
		}
	}
}

func (c *commitTracker) observe(rpc raft.RPC) {
	req, ok := rpc.Command.(*raft.AppendEntriesRequest)
	if !ok {
		return
	}
	for {
		cur := c.leaderCommit.Load()
		if req.LeaderCommitIndex <= cur || c.leaderCommit.CompareAndSwap(cur, req.LeaderCommitIndex) {
			break
		}
	}
	c.appends.Add(1)
}

// close stops the relay goroutine. The transport itself is closed by Node.
func (c *commitTracker) close() { close(c.stop) }
