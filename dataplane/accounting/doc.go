// Package accounting collects the stage durations of a predict request and
// reports them twice: as a Server-Timing response header for the client, and
// as Prometheus histograms and counters for the node's /metrics endpoint.
//
// It does not read the clock itself. The predict handler reads the clock
// around each stage and stores the durations in a Timings value. It does not
// serve HTTP either, so the caller writes the header and mounts
// WritePrometheus.
//
// Concurrency: a Timings value belongs to one request and is not safe for
// concurrent use. A Recorder is safe for concurrent use by any number of
// goroutines, and its hot path takes only read locks once a model has been
// seen.
package accounting
