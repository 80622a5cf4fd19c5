package accounting

import (
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/VictoriaMetrics/metrics"
)

// Metric names, in the Prometheus style with the unit as a suffix.
const (
	durationMetric = "yoloplane_predict_duration_seconds"
	requestsMetric = "yoloplane_predict_requests_total"
)

// durationBuckets are the upper bounds, in seconds, of the duration
// histograms. They run from 0.5 ms to 10 s in 1-2.5-5 steps, so adjacent
// bounds differ by at most a factor of 2.5 and histogram_quantile stays
// within that factor for any latency in the range. Slower requests fall
// into the +Inf bucket only.
var durationBuckets = []float64{
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1, 2.5, 5, 10,
}

// Recorder turns per-request Timings into Prometheus series in a
// *metrics.Set:
//
//	yoloplane_predict_duration_seconds_bucket{stage="decode",model="<id>",le="0.005"}
//	yoloplane_predict_requests_total{model="<id>",status="200"}
//
// The duration histograms are Prometheus histograms with fixed bounds
// from 0.5 ms to 10 s, not VictoriaMetrics vmrange histograms, so that standard
// histogram_quantile queries work on them.
//
// NOTE: every distinct model ID adds 6 histograms and every (model, status)
// pair a counter, and none are ever removed. Callers must pass only IDs of
// models that exist, never a raw path segment from the request.
type Recorder struct {
	set *metrics.Set

	mu     sync.RWMutex
	models map[string]*modelSeries
}

// modelSeries caches the metrics of one model so that Observe builds no
// metric names after the first request for that model.
type modelSeries struct {
	model string // label value, already escaped

	// durations holds one histogram per stage, then one for the total.
	durations [numStages + 1]*metrics.PrometheusHistogram

	mu       sync.RWMutex
	requests map[int]*metrics.Counter // by HTTP status
}

// NewRecorder returns a Recorder that registers its series in set. The
// caller owns set and may register other metrics in it.
func NewRecorder(set *metrics.Set) *Recorder {
	return &Recorder{set: set, models: make(map[string]*modelSeries)}
}

// Observe records one finished predict request of model modelID whose
// response had HTTP status code status. It updates the histogram of every recorded
// stage and of the total, and increments the request counter. It is safe
// for concurrent use and does not allocate for a model and status it has
// seen before.
func (r *Recorder) Observe(modelID string, status int, t *Timings) {
	ms := r.series(modelID)
	for s := range numStages {
		if t.Recorded(s) {
			ms.durations[s].Update(t.d[s].Seconds())
		}
	}
	ms.durations[numStages].Update(t.Total.Seconds())
	ms.counter(r.set, status).Inc()
}

// WritePrometheus writes the Recorder's series, and any other metric in its
// set, to w in the Prometheus text format.
func (r *Recorder) WritePrometheus(w io.Writer) {
	r.set.WritePrometheus(w)
}

func (r *Recorder) series(modelID string) *modelSeries {
	return getOrCreate(&r.mu, r.models, modelID, func() *modelSeries {
		return newModelSeries(r.set, modelID)
	})
}

// getOrCreate returns m[key], calling create under the write lock when the
// key is missing. The common hit takes only the read lock.
func getOrCreate[K comparable, V any](mu *sync.RWMutex, m map[K]*V, key K, create func() *V) *V {
	mu.RLock()
	v := m[key]
	mu.RUnlock()
	if v != nil {
		return v
	}

	mu.Lock()
	defer mu.Unlock()
	if v = m[key]; v != nil {
		return v
	}
	v = create()
	m[key] = v
	return v
}

func newModelSeries(set *metrics.Set, modelID string) *modelSeries {
	ms := &modelSeries{
		model:    escapeLabel(modelID),
		requests: make(map[int]*metrics.Counter),
	}
	for s := range numStages {
		ms.durations[s] = set.GetOrCreatePrometheusHistogramExt(ms.durationName(stageNames[s]), durationBuckets)
	}
	ms.durations[numStages] = set.GetOrCreatePrometheusHistogramExt(ms.durationName(totalName), durationBuckets)
	return ms
}

func (ms *modelSeries) durationName(stage string) string {
	return durationMetric + `{stage="` + stage + `",model="` + ms.model + `"}`
}

func (ms *modelSeries) counter(set *metrics.Set, status int) *metrics.Counter {
	return getOrCreate(&ms.mu, ms.requests, status, func() *metrics.Counter {
		name := requestsMetric + `{model="` + ms.model + `",status="` + strconv.Itoa(status) + `"}`
		return set.GetOrCreateCounter(name)
	})
}

// labelEscaper applies the Prometheus text format's escaping for label
// values: backslash, double quote and line feed.
var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func escapeLabel(v string) string {
	return labelEscaper.Replace(v)
}
