// Package raftnode runs one control-plane voter: a hashicorp/raft instance
// with a BoltDB log and stable store, file snapshots and a TCP transport,
// driving a state.FSM. It proposes commands, reports leadership and changes
// cluster membership.
//
// It is not the HTTP layer: a follower returns a *NotLeaderError (or calls
// the Forwarder installed with SetForwarder), and the API layer forwards the
// write to the leader. It does not log by itself; raft's own log lines are
// adapted into the *slog.Logger of the Config.
//
// Concurrency: every method of Node is safe for concurrent use. Apply calls
// from many goroutines are pipelined by raft, and the leader writes up to
// Config.MaxAppendEntries queued proposals with one fsync.
package raftnode
