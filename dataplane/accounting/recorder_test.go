package accounting

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/google/go-cmp/cmp"
)

// parseSamples reads Prometheus text into a map from the full series name,
// labels included, to its value.
func parseSamples(t *testing.T, text string) map[string]float64 {
	t.Helper()
	samples := make(map[string]float64)
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			t.Fatalf("malformed sample line %q", line)
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("sample line %q: %v", line, err)
		}
		samples[line[:i]] = v
	}
	return samples
}

func writeSamples(t *testing.T, r *Recorder) map[string]float64 {
	t.Helper()
	var buf bytes.Buffer
	r.WritePrometheus(&buf)
	return parseSamples(t, buf.String())
}

func TestRecorderSeries(t *testing.T) {
	r := NewRecorder(metrics.NewSet())
	tm := fullTimings()
	for range 3 {
		r.Observe("m1", 200, &tm)
	}
	r.Observe("m1", 500, &tm)

	s := writeSamples(t, r)
	want := map[string]float64{
		`yoloplane_predict_requests_total{model="m1",status="200"}`:                             3,
		`yoloplane_predict_requests_total{model="m1",status="500"}`:                             1,
		`yoloplane_predict_duration_seconds_count{stage="decode",model="m1"}`:                   4,
		`yoloplane_predict_duration_seconds_count{stage="total",model="m1"}`:                    4,
		`yoloplane_predict_duration_seconds_bucket{stage="inference",model="m1",le="0.005"}`:    0,
		`yoloplane_predict_duration_seconds_bucket{stage="inference",model="m1",le="0.01"}`:     4,
		`yoloplane_predict_duration_seconds_bucket{stage="inference",model="m1",le="+Inf"}`:     4,
		`yoloplane_predict_duration_seconds_bucket{stage="postprocess",model="m1",le="0.0005"}`: 4,
	}
	got := make(map[string]float64)
	for name := range want {
		v, ok := s[name]
		if !ok {
			t.Errorf("series %s missing from output", name)
			continue
		}
		got[name] = v
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("series values (-want +got):\n%s", diff)
	}
	if sum := s[`yoloplane_predict_duration_seconds_sum{stage="inference",model="m1"}`]; sum < 0.0319 || sum > 0.0321 {
		t.Errorf("inference sum = %v, want 4 × 0.008 = 0.032", sum)
	}
}

func TestRecorderSkipsUnrecordedStages(t *testing.T) {
	r := NewRecorder(metrics.NewSet())
	var tm Timings
	tm.Set(Decode, time.Millisecond)
	tm.Total = 2 * time.Millisecond
	r.Observe("m1", 400, &tm)

	s := writeSamples(t, r)
	if got := s[`yoloplane_predict_duration_seconds_count{stage="decode",model="m1"}`]; got != 1 {
		t.Errorf("decode count = %v, want 1", got)
	}
	if got := s[`yoloplane_predict_duration_seconds_count{stage="inference",model="m1"}`]; got != 0 {
		t.Errorf("inference count = %v, want 0 for a request that never reached inference", got)
	}
	if got := s[`yoloplane_predict_requests_total{model="m1",status="400"}`]; got != 1 {
		t.Errorf("requests with status 400 = %v, want 1", got)
	}
}

func TestRecorderEscapesModelLabel(t *testing.T) {
	r := NewRecorder(metrics.NewSet())
	tm := fullTimings()
	r.Observe("a\"b\\c\nd", 200, &tm)

	s := writeSamples(t, r)
	name := `yoloplane_predict_requests_total{model="a\"b\\c\nd",status="200"}`
	if got := s[name]; got != 1 {
		t.Errorf("%s = %v, want 1", name, got)
	}
}

func TestRecorderObserveAllocs(t *testing.T) {
	r := NewRecorder(metrics.NewSet())
	tm := fullTimings()
	model := "0123456789abcdef01234567"
	r.Observe(model, 200, &tm)

	allocs := testing.AllocsPerRun(100, func() {
		r.Observe(model, 200, &tm)
	})
	if allocs != 0 {
		t.Errorf("Observe of a seen model and status allocates %v times per call, want 0", allocs)
	}
}

func TestRecorderConcurrent(t *testing.T) {
	r := NewRecorder(metrics.NewSet())
	const goroutines, perGoroutine = 8, 500
	models := []string{"m1", "m2", "m3"}

	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			tm := fullTimings()
			var buf bytes.Buffer
			for i := range perGoroutine {
				r.Observe(models[(g+i)%len(models)], 200+100*(i%3), &tm)
				if i%100 == 0 {
					buf.Reset()
					r.WritePrometheus(&buf)
				}
			}
		})
	}
	wg.Wait()

	s := writeSamples(t, r)
	var requests, totals float64
	for _, m := range models {
		totals += s[`yoloplane_predict_duration_seconds_count{stage="total",model="`+m+`"}`]
		for _, status := range []string{"200", "300", "400"} {
			requests += s[`yoloplane_predict_requests_total{model="`+m+`",status="`+status+`"}`]
		}
	}
	if want := float64(goroutines * perGoroutine); requests != want || totals != want {
		t.Errorf("requests counted = %v, total histogram count = %v, want %v for both", requests, totals, want)
	}
}

func BenchmarkRecorderObserve(b *testing.B) {
	r := NewRecorder(metrics.NewSet())
	tm := fullTimings()
	r.Observe("m1", 200, &tm)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r.Observe("m1", 200, &tm)
		}
	})
}
