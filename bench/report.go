package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"text/tabwriter"
	"time"
)

// Report is the outcome of one run.
type Report struct {
	// Requests counts completed requests, successful or not. Requests
	// interrupted by cancelling the context are not counted.
	Requests int
	// Errors counts transport errors, timeouts and responses outside 2xx.
	Errors int
	// Dropped counts open-loop requests that were due while all
	// Concurrency workers were busy, and so were never sent. Always 0 in a
	// closed loop.
	Dropped int
	// Duration is the wall-clock time from the first request to the last
	// completion.
	Duration time.Duration
	// Throughput is successful requests per second over Duration.
	Throughput float64
	// Latency covers successful requests only. In an open loop it is
	// measured from the scheduled send time, so time spent waiting for a
	// free worker counts, which avoids coordinated omission.
	Latency Percentiles
	// StatusCounts maps HTTP status codes to the number of responses.
	StatusCounts map[int]int
	// ErrorSamples maps error messages to their counts, with at most 20
	// distinct messages.
	ErrorSamples map[string]int
	// ServerStages maps each metric name of the Server-Timing header of
	// successful responses to the percentiles of its durations.
	ServerStages map[string]Percentiles
}

// WriteText writes the report as a human-readable table.
func (r Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "requests\t%d\n", r.Requests)
	fmt.Fprintf(tw, "errors\t%d\n", r.Errors)
	if r.Dropped > 0 {
		fmt.Fprintf(tw, "dropped\t%d\t(all workers busy)\n", r.Dropped)
	}
	fmt.Fprintf(tw, "duration\t%s\n", r.Duration.Round(time.Millisecond))
	fmt.Fprintf(tw, "throughput\t%.1f req/s\n", r.Throughput)

	fmt.Fprintf(tw, "\nlatency\tp50\tp90\tp99\tp99.9\tmin\tmax\tmean\n")
	writePercentilesRow(tw, "client", r.Latency)
	for _, name := range slices.Sorted(maps.Keys(r.ServerStages)) {
		writePercentilesRow(tw, "server "+name, r.ServerStages[name])
	}

	if len(r.StatusCounts) > 0 {
		fmt.Fprintf(tw, "\nstatus\tcount\n")
		for _, code := range slices.Sorted(maps.Keys(r.StatusCounts)) {
			fmt.Fprintf(tw, "%d\t%d\n", code, r.StatusCounts[code])
		}
	}
	if len(r.ErrorSamples) > 0 {
		fmt.Fprintf(tw, "\nerror\tcount\n")
		for _, msg := range slices.Sorted(maps.Keys(r.ErrorSamples)) {
			fmt.Fprintf(tw, "%s\t%d\n", msg, r.ErrorSamples[msg])
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

func writePercentilesRow(w io.Writer, label string, p Percentiles) {
	fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", label,
		formatLatency(p.P50), formatLatency(p.P90), formatLatency(p.P99), formatLatency(p.P999),
		formatLatency(p.Min), formatLatency(p.Max), formatLatency(p.Mean))
}

// formatLatency prints milliseconds with microsecond resolution, one unit
// for every cell so that columns compare at a glance.
func formatLatency(d time.Duration) string {
	return fmt.Sprintf("%.3fms", millis(d))
}

func millis(d time.Duration) float64 {
	return float64(d) / float64(time.Millisecond)
}

// jsonReport is the stable JSON form of Report. Durations are milliseconds
// as floats, and map keys are strings because JSON has no integer keys.
type jsonReport struct {
	Requests     int                        `json:"requests"`
	Errors       int                        `json:"errors"`
	Dropped      int                        `json:"dropped"`
	DurationS    float64                    `json:"duration_s"`
	Throughput   float64                    `json:"throughput_rps"`
	Latency      jsonPercentiles            `json:"latency"`
	StatusCounts map[string]int             `json:"status_counts"`
	ErrorSamples map[string]int             `json:"error_samples"`
	ServerStages map[string]jsonPercentiles `json:"server_stages"`
}

type jsonPercentiles struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	P999  float64 `json:"p999_ms"`
	Min   float64 `json:"min_ms"`
	Max   float64 `json:"max_ms"`
	Mean  float64 `json:"mean_ms"`
}

func toJSONPercentiles(p Percentiles) jsonPercentiles {
	return jsonPercentiles{
		Count: p.Count,
		P50:   millis(p.P50), P90: millis(p.P90), P99: millis(p.P99), P999: millis(p.P999),
		Min: millis(p.Min), Max: millis(p.Max), Mean: millis(p.Mean),
	}
}

// WriteJSON writes the report as one indented JSON object with snake_case
// keys. Durations are in milliseconds (keys ending in _ms) except the run's
// duration_s. Maps are always present, empty when there is nothing to report.
func (r Report) WriteJSON(w io.Writer) error {
	out := jsonReport{
		Requests:     r.Requests,
		Errors:       r.Errors,
		Dropped:      r.Dropped,
		DurationS:    r.Duration.Seconds(),
		Throughput:   r.Throughput,
		Latency:      toJSONPercentiles(r.Latency),
		StatusCounts: make(map[string]int, len(r.StatusCounts)),
		ErrorSamples: make(map[string]int, len(r.ErrorSamples)),
		ServerStages: make(map[string]jsonPercentiles, len(r.ServerStages)),
	}
	for code, n := range r.StatusCounts {
		out.StatusCounts[fmt.Sprint(code)] = n
	}
	maps.Copy(out.ErrorSamples, r.ErrorSamples)
	for name, p := range r.ServerStages {
		out.ServerStages[name] = toJSONPercentiles(p)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}
