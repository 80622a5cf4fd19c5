package main

import (
	"flag"
	"time"

	"github.com/yoloplane/yoloplane/controlplane/raftnode"
)

// raftTiming contains the Raft timeouts an operator may change for the
// network between the voters.
type raftTiming struct {
	heartbeat, election, lease, commit time.Duration
}

func (r *raftTiming) register(fs *flag.FlagSet) {
	d := raftnode.DefaultConfig()
	fs.DurationVar(&r.heartbeat, "raft-heartbeat-timeout", d.HeartbeatTimeout,
		"how long a follower waits without contact from the leader before it starts an election; the leader sends heartbeats ten times as often. Raise it for voters across a WAN")
	fs.DurationVar(&r.election, "raft-election-timeout", d.ElectionTimeout,
		"how long a candidate waits for votes before it starts another election")
	fs.DurationVar(&r.lease, "raft-leader-lease-timeout", d.LeaderLeaseTimeout,
		"how long a leader keeps leading without contact from a quorum; at most --raft-heartbeat-timeout")
	fs.DurationVar(&r.commit, "raft-commit-timeout", d.CommitTimeout,
		"how long an idle leader waits before it sends followers the commit index of entries they already hold (randomized up to twice that). Followers that forwarded a write are told at once either way")
}

func (r raftTiming) apply(c *raftnode.Config) {
	c.HeartbeatTimeout, c.ElectionTimeout, c.LeaderLeaseTimeout = r.heartbeat, r.election, r.lease
	c.CommitTimeout = r.commit
}
