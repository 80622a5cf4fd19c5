// Package node runs a regional data-plane node. It follows the fleet state
// that the control plane publishes and warms a model session for every
// deployment placed on it. It serves predict, health, metrics and stats for
// those deployments on a fasthttp listener.
//
// The node is a cache. It keeps serving from the last fleet state it applied
// when the control plane is unreachable, and it persists that state in its
// data directory so that a restarted node serves before the control plane
// answers. Rate limits come from quota leases that the node fetches in
// batches, and usage goes back to the control plane in batches, so no
// predict waits for a Raft commit unless its key's lease ran out.
//
// It is not the control plane: it never decides placement, never changes
// the fleet state and never stores API keys, only their SHA-256 hashes.
//
// A Node is safe for concurrent use. Start launches its background
// goroutines (watch, reconcile, heartbeat, usage), and Close stops them,
// waits for them and releases every model session.
package node
