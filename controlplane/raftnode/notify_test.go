package raftnode

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/yoloplane/yoloplane/controlplane/state"
)

// TestNotifyCommittedReachesFollower sets CommitTimeout far beyond the
// test, so that a follower usually learns of a commit only from
// NotifyCommitted, and checks that the entry is not applied there before
// the call and is applied after it. A follower may still find the commit
// in an AppendEntries that raft or early sending put together after the
// commit, so the test writes again until it sees a write the follower has
// not applied.
func TestNotifyCommittedReachesFollower(t *testing.T) {
	c := newTunedCluster(t, 3, func(cfg *Config) { cfg.CommitTimeout = time.Hour })
	leader, follower := c.leader(), c.follower()
	var index uint64
	var project int
	for attempt := 1; index == 0; attempt++ {
		if attempt > 10 {
			t.Fatal("the follower learned every commit without a notification: the test no longer shows anything")
		}
		entry, err := state.Encode(createProject(attempt))
		if err != nil {
			t.Fatal(err)
		}
		_, applied, err := leader.ApplyEntry(ctxTimeout(t, 5*time.Second), entry)
		if err != nil {
			t.Fatalf("ApplyEntry: %v", err)
		}
		wait, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		if errors.Is(follower.FSM().WaitApplied(wait, applied), context.DeadlineExceeded) {
			index, project = applied, attempt
		}
		cancel()
	}

	leader.NotifyCommitted(follower.ID(), follower.Addr(), index)
	if err := follower.FSM().WaitApplied(ctxTimeout(t, 5*time.Second), index); err != nil {
		t.Fatalf("follower did not apply entry %d after the notification: %v", index, err)
	}
	if _, ok := follower.FSM().ProjectByID(id(1000 + project)); !ok {
		t.Errorf("project %s is missing on the follower", id(1000+project))
	}
}

// TestNotifyCommittedIgnoredOffLeader checks that a follower sends nothing
// when asked to notify another follower: no notification is queued.
func TestNotifyCommittedIgnoredOffLeader(t *testing.T) {
	c := newCluster(t, 3)
	leader := c.leader()
	var followers []*Node
	for _, n := range c.running() {
		if n != leader {
			followers = append(followers, n)
		}
	}
	followers[1].NotifyCommitted(followers[0].ID(), followers[0].Addr(), leader.raft.CommitIndex())

	followers[1].notifier.mu.Lock()
	defer followers[1].notifier.mu.Unlock()
	if n := len(followers[1].notifier.pending); n != 0 {
		t.Errorf("a follower queued %d notifications, want none", n)
	}
}
