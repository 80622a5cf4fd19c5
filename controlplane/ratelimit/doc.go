// Package ratelimit enforces per-API-key request limits across the whole
// control-plane cluster: a number of requests per minute and per UTC day,
// set by the key's plan.
//
// The Raft leader owns the counters, in memory. A follower asks the leader
// for each decision through a Remote call that the cluster package
// provides; concurrent requests share one call. Rejected requests consume
// nothing. The leader commits each key's day total through Raft every
// Config.FlushInterval, and a new leader starts from those totals, so a day
// count survives restarts and leader changes, less the requests of the last
// interval before a leader failed. Minute counts live only in the leader's
// memory and start again at zero on a new leader.
//
// The package does not authenticate requests or choose a key's plan. It
// does not log.
//
// Concurrency: every method of Counter and Limiter is safe for concurrent
// use.
package ratelimit
