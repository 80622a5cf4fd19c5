// Package gossip keeps the data-plane nodes of one region in a
// hashicorp/memberlist pool, so that each node has its peers' HTTP
// addresses, capacity, load and warm models.
//
// Each node advertises small metadata (region, HTTP address, capacity, load
// and the version of its warm-model set) in memberlist's node meta, which is
// limited to memberlist.MetaMaxSize (512) bytes. The full warm-model set
// travels separately: as a broadcast when it changes, relayed once by every
// node that learns something new, and in memberlist's periodic push-pull
// state exchange, which repairs whatever the broadcasts missed. A node rejects
// peers whose metadata names another region, so pools of different regions
// never merge.
//
// It is not a source of truth. Deployment specs and placement decisions live
// in the control plane; the pool only reports what nodes currently hold, and
// every view of it is eventually consistent.
//
// A Pool is safe for concurrent use. Memberlist calls its delegates on its
// own goroutines, and the pool publishes metadata changes from one background
// goroutine of its own, so SetLoad and SetModels never block on the network.
package gossip
