// Package cluster is the HTTP side of a multi-voter control plane: it
// forwards writes from followers to the leader, adds joining voters,
// serves the admin routes that list and change voters, serves the
// rate limiter's batched calls, offers linearizable reads and reports
// readiness.
//
// Internal routes live under /internal/v1/ and require the cluster secret
// in the X-Yoloplane-Cluster-Secret header. A user's API key never opens
// them. Each voter's HTTP address is replicated through Raft
// (state.SetNodeAddr), so any node can reach whichever voter leads.
//
// The package does not authenticate users by itself: the Admin function in
// Config decides who may use the admin routes. It does not log.
//
// Concurrency: a Cluster is safe for concurrent use once New returns.
package cluster
