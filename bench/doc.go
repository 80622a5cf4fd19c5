// Package bench is the load generator behind `yoloplane bench`. It sends
// multipart predict requests to one endpoint for a fixed time, either back to
// back from N workers (closed loop) or on a fixed schedule (open loop). It
// reports throughput, exact latency percentiles, status codes, error samples
// and the server's own stage timings from the Server-Timing header.
//
// It is not a general HTTP benchmark: every request carries the same body,
// built once, and it measures a single URL. It never logs. Flags and output
// destinations belong to the caller in cmd/.
//
// Concurrency: Run and RunFunc start their own goroutines and stop all of
// them before returning. Several runs may execute at the same time. Each
// worker records into its own buffers, which are merged once at the end.
package bench
