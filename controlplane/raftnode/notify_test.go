package raftnode

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/yoloplane/yoloplane/controlplane/state"
)

// TestNotifyCommittedReachesFollower sets CommitTimeout far beyond the
// test, so that a follower learns of a commit only from NotifyCommitted,
// and checks that the entry is not applied there before the call and is
// applied after it.
func TestNotifyCommittedReachesFollower(t *testing.T) {
	c := newTunedCluster(t, 3, func(cfg *Config) { cfg.CommitTimeout = time.Hour })
	// c.follower is the first follower by ID, the one that gets entries
	// early and so never finds the commit in raft's AppendEntries.
	leader, follower := c.leader(), c.follower()
	entry, err := state.Encode(createProject(1))
	if err != nil {
		t.Fatal(err)
	}
	_, index, err := leader.ApplyEntry(ctxTimeout(t, 5*time.Second), entry)
	if err != nil {
		t.Fatalf("ApplyEntry: %v", err)
	}

	wait, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	err = follower.FSM().WaitApplied(wait, index)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("follower applied entry %d without a notification (err %v): the test no longer shows anything", index, err)
	}

	leader.NotifyCommitted(follower.ID(), follower.Addr(), index)
	if err := follower.FSM().WaitApplied(ctxTimeout(t, 5*time.Second), index); err != nil {
		t.Fatalf("follower did not apply entry %d after the notification: %v", index, err)
	}
	if _, ok := follower.FSM().ProjectByID(id(1001)); !ok {
		t.Errorf("project %s is missing on the follower", id(1001))
	}
}

// TestNotifyCommittedIgnoredOffLeader checks that a follower sends nothing:
// the other follower still lacks the entry after being notified by it.
func TestNotifyCommittedIgnoredOffLeader(t *testing.T) {
	c := newTunedCluster(t, 3, func(cfg *Config) { cfg.CommitTimeout = time.Hour })
	leader := c.leader()
	entry, err := state.Encode(createProject(2))
	if err != nil {
		t.Fatal(err)
	}
	_, index, err := leader.ApplyEntry(ctxTimeout(t, 5*time.Second), entry)
	if err != nil {
		t.Fatalf("ApplyEntry: %v", err)
	}
	var followers []*Node
	for _, n := range c.running() {
		if n != leader {
			followers = append(followers, n)
		}
	}
	// The first follower by ID gets new entries before the leader's own
	// write, so it acknowledges raft's AppendEntries before the entry
	// commits and has no other way to learn the commit. The second may
	// receive raft's AppendEntries after the commit, carrying it.
	followers[1].NotifyCommitted(followers[0].ID(), followers[0].Addr(), index)

	wait, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := followers[0].FSM().WaitApplied(wait, index); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("follower applied entry %d after a notification from another follower (err %v)", index, err)
	}
}
