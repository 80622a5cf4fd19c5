// Package fleet is the control plane's side of the data-plane fleet. It
// keeps a registry of data-plane nodes from their heartbeats, places
// running deployments on live nodes of their region, moves them when a node
// stops heartbeating, and turns what nodes report into deployment statuses.
// It serves the internal fleet routes of shared/wire: the watch long poll,
// heartbeats, model blobs by SHA-256, usage batches and quota leases.
//
// A Service runs on every voter. Every voter serves the routes and relays
// the heartbeats it receives to the other voters, so each registry covers
// the whole fleet whichever voter a node names. Only the Raft leader
// proposes placement and status changes, so decisions never race.
//
// It is not the data plane and never serves predicts itself. The REST
// routes for deployments live in controlplane/api and use the Service
// through its exported methods.
//
// A Service is safe for concurrent use. Run drives the reconcile loop until
// its context ends.
package fleet
