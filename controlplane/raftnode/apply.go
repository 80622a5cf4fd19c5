package raftnode

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"

	"github.com/yoloplane/yoloplane/controlplane/state"
)

// membershipTimeout bounds how long a membership change waits to be queued
// on the leader, not how long it takes to commit.
const membershipTimeout = 10 * time.Second

// readyPollInterval is how often WaitReady rechecks leadership and the
// applied index. Readiness is checked once per start, so a short interval
// costs little.
const readyPollInterval = 20 * time.Millisecond

// Apply proposes cmd and returns the state machine's result once the entry
// is committed and applied on this node: the result value, or the error
// (wrapping state.ErrNotFound, state.ErrConflict or state.ErrInvalid) that
// the apply function returned.
//
// On a follower Apply calls the installed Forwarder, or returns a
// *NotLeaderError when there is none or no leader is known. If ctx ends
// first, Apply returns ctx.Err() but the entry may still be committed. The
// same holds for an error wrapping raft.ErrLeadershipLost, so a caller that
// retries relies on the IDs inside the command to detect a duplicate.
func (n *Node) Apply(ctx context.Context, cmd state.Command) (any, error) {
	// A follower's raft loop rejects proposals only between its disk
	// writes, so asking it first would delay every forwarded write by a
	// log append or more.
	if !n.IsLeader() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return n.notLeader(ctx, cmd)
	}
	entry, err := state.Encode(cmd)
	if err != nil {
		return nil, err
	}
	v, _, err := n.ApplyEntry(ctx, entry)
	if errors.Is(err, ErrNotLeader) {
		return n.notLeader(ctx, cmd)
	}
	return v, err
}

// ApplyEntry proposes an entry that state.Encode wrote, without the
// Forwarder, and returns the result and the entry's log index. The leader's
// side of forwarding calls it with the follower's bytes, so that a
// forwarded command is not encoded twice and never travels on to a third
// node. The caller checks the entry with state.Decode first, because the
// state machine stops on a command type it does not know.
func (n *Node) ApplyEntry(ctx context.Context, entry []byte) (any, uint64, error) {
	if len(entry) == 0 {
		return nil, 0, fmt.Errorf("%w: empty log entry", state.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	future := n.raft.Apply(entry, timeoutFrom(ctx))
	if err := waitFuture(ctx, future); err != nil {
		if errors.Is(err, raft.ErrNotLeader) {
			id, addr := n.Leader()
			return nil, 0, &NotLeaderError{LeaderID: id, LeaderAddr: addr}
		}
		return nil, 0, fmt.Errorf("apply command %d: %w", entry[0], err)
	}
	resp := future.Response()
	if err, ok := resp.(error); ok {
		return nil, future.Index(), err
	}
	return resp, future.Index(), nil
}

func (n *Node) notLeader(ctx context.Context, cmd state.Command) (any, error) {
	id, addr := n.Leader()
	if fwd := n.forward.Load(); fwd != nil && addr != "" && id != n.cfg.NodeID {
		return (*fwd)(ctx, id, addr, cmd)
	}
	return nil, &NotLeaderError{LeaderID: id, LeaderAddr: addr}
}

// waitFuture waits for f or for ctx to end, whichever comes first. raft
// resolves every future eventually (at the latest on shutdown), so the
// goroutine left behind when ctx ends does not leak for long.
func waitFuture(ctx context.Context, f raft.Future) error {
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Barrier waits until every entry committed before the call is applied to
// this node's state. It works only on the leader.
func (n *Node) Barrier(ctx context.Context) error {
	return n.leaderOnly(waitFuture(ctx, n.raft.Barrier(timeoutFrom(ctx))), "barrier")
}

// VerifyLeader confirms with a quorum that this node is still the leader,
// so that a read served afterwards is not stale.
func (n *Node) VerifyLeader(ctx context.Context) error {
	return n.leaderOnly(waitFuture(ctx, n.raft.VerifyLeader()), "verify leader")
}

// leaderOnly turns raft's leadership errors into a *NotLeaderError.
func (n *Node) leaderOnly(err error, op string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, raft.ErrNotLeader) || errors.Is(err, raft.ErrLeadershipLost) {
		id, addr := n.Leader()
		return &NotLeaderError{LeaderID: id, LeaderAddr: addr}
	}
	return fmt.Errorf("%s: %w", op, err)
}

// IsLeader reports whether this node is the leader right now. Leadership
// can end at any moment; VerifyLeader confirms it with a quorum.
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

// Leader returns the ID and address of the leader as recorded on this node,
// both empty when no leader is known.
func (n *Node) Leader() (id, addr string) {
	a, i := n.raft.LeaderWithID()
	return string(i), string(a)
}

// LeaderAddr returns the Raft address of the leader, or "" when none is
// known.
func (n *Node) LeaderAddr() string {
	_, addr := n.Leader()
	return addr
}

// LeaderCh returns raft's channel that reports this node gaining (true)
// and losing (false) leadership. Raft drops values the reader does not take
// in time, so a reader rechecks IsLeader after each value.
func (n *Node) LeaderCh() <-chan bool { return n.raft.LeaderCh() }

// Snapshot takes a snapshot now and compacts the log behind it.
func (n *Node) Snapshot() error {
	if err := n.raft.Snapshot().Error(); err != nil {
		return fmt.Errorf("take snapshot: %w", err)
	}
	return nil
}
