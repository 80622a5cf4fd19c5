package raftnode

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/raft"
)

// AddVoter adds a voter, or changes the address of the voter with this ID
// (raft treats an AddVoter for a known ID as an address change). It returns
// once the new configuration is committed, which needs the new voter to be
// reachable when it is part of the quorum. Only the leader can do this.
func (n *Node) AddVoter(id, addr string) error {
	f := n.raft.AddVoter(raft.ServerID(id), raft.ServerAddress(addr), 0, membershipTimeout)
	return n.leaderOnly(f.Error(), fmt.Sprintf("add voter %s at %s", id, addr))
}

// RemoveServer removes a server from the configuration. Only the leader can
// do this; a leader that removes itself steps down.
func (n *Node) RemoveServer(id string) error {
	f := n.raft.RemoveServer(raft.ServerID(id), 0, membershipTimeout)
	return n.leaderOnly(f.Error(), fmt.Sprintf("remove server %s", id))
}

// Servers returns the latest cluster configuration known to this node,
// committed or not, in configuration order.
func (n *Node) Servers() ([]Server, error) {
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, fmt.Errorf("get raft configuration: %w", err)
	}
	leaderID, _ := n.Leader()
	var out []Server
	for _, s := range f.Configuration().Servers {
		out = append(out, Server{
			ID:       string(s.ID),
			Addr:     string(s.Address),
			Suffrage: s.Suffrage.String(),
			Leader:   string(s.ID) == leaderID,
		})
	}
	return out, nil
}

// WaitReady waits until a leader is known and this node has applied every
// entry the cluster had committed at about the time of the call. The leader
// waits for a barrier. A follower waits for the commit index carried by the
// first AppendEntries it receives after the call. On a restarted node this
// means the whole committed log is applied, so reads never serve state older
// than before the restart.
func (n *Node) WaitReady(ctx context.Context) error {
	var target uint64 // commit index to reach on a follower, once known
	appendsAtStart := n.tracker.appends.Load()
	for {
		done, err := n.readyStep(ctx, appendsAtStart, &target)
		if err != nil || done {
			return err
		}
		if err := sleep(ctx, readyPollInterval); err != nil {
			return fmt.Errorf("wait for raft to be ready: %w", err)
		}
	}
}

func (n *Node) readyStep(ctx context.Context, appendsAtStart uint64, target *uint64) (bool, error) {
	if _, addr := n.Leader(); addr == "" {
		return false, nil
	}
	if n.IsLeader() {
		// A barrier completes after the FSM applied everything before it.
		return n.Barrier(ctx) == nil, nil
	}
	if *target == 0 {
		// The leader's commit index arrives with the next AppendEntries;
		// the leader sends one at least every CommitTimeout.
		if n.tracker.appends.Load() == appendsAtStart {
			return false, nil
		}
		*target = max(n.tracker.leaderCommit.Load(), n.raft.CommitIndex())
	}
	return n.appliedThrough(*target)
}

// appliedThrough reports whether the FSM has applied every entry it will
// ever see up to index. Raft passes only commands and configuration changes
// to the FSM, not the no-op a new leader writes. The FSM's applied index can
// therefore stop short of index forever, so the entries after it are looked
// up in the log.
func (n *Node) appliedThrough(index uint64) (bool, error) {
	applied := n.fsm.AppliedIndex()
	first, err := n.store.FirstIndex()
	if err != nil {
		return false, fmt.Errorf("read first log index: %w", err)
	}
	for i := index; i > applied; i-- {
		if i < first {
			break // compacted into a snapshot, which restore applied
		}
		var l raft.Log
		err := n.store.GetLog(i, &l)
		if errors.Is(err, raft.ErrLogNotFound) {
			break // compacted after a snapshot install emptied the log
		}
		if err != nil {
			return false, fmt.Errorf("read log entry %d: %w", i, err)
		}
		if l.Type == raft.LogCommand || l.Type == raft.LogConfiguration {
			return false, nil
		}
	}
	return n.raft.AppliedIndex() >= index, nil
}
