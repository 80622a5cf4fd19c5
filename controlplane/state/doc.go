// Package state is the replicated state machine of the control plane: the
// tables of users, workspaces, members, API keys, projects and models, the
// commands that change them, and the snapshot format that copies them.
//
// Every change arrives as a Raft log entry whose first byte is a
// CommandType and whose remainder is the command encoded as JSON. Apply is
// deterministic: IDs, timestamps and secrets are chosen by the proposer and
// travel inside the command, and no apply function reads the clock, draws
// random numbers or depends on map iteration order. Two FSMs that apply the
// same log therefore produce byte-identical snapshots.
//
// The package does not talk to the network, choose IDs or hash API keys.
// Package raftnode proposes commands and feeds committed entries back here.
//
// Concurrency: raft calls Apply, ApplyBatch, Snapshot and Restore from its
// single FSM goroutine. Read methods may be called from any goroutine at any
// time; a sync.RWMutex serializes them against writes. Stored records are
// never modified in place (an update stores a new copy), and read methods
// return deep copies, so callers may keep and modify what they get.
package state
