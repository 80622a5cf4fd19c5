package bench

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestPercentilesKnownSlice(t *testing.T) {
	ds := make([]time.Duration, 0, 100)
	for i := 100; i >= 1; i-- { // reversed, so the function must sort
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	got := computePercentiles(ds)
	want := Percentiles{
		Count: 100,
		P50:   50 * time.Millisecond,
		P90:   90 * time.Millisecond,
		P99:   99 * time.Millisecond,
		P999:  100 * time.Millisecond,
		Min:   1 * time.Millisecond,
		Max:   100 * time.Millisecond,
		Mean:  50500 * time.Microsecond,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("percentiles of 1..100 ms (-want +got):\n%s", diff)
	}
}

func TestPercentileNearestRank(t *testing.T) {
	sorted := []time.Duration{10, 20, 30, 40}
	cases := []struct {
		p    float64
		want time.Duration
	}{
		{0, 10}, {0.25, 10}, {0.26, 20}, {0.5, 20}, {0.75, 30}, {0.76, 40}, {1, 40},
	}
	for _, c := range cases {
		if got := percentile(sorted, c.p); got != c.want {
			t.Errorf("percentile(%v, %v) = %v, want %v", sorted, c.p, got, c.want)
		}
	}
	if got := computePercentiles(nil); got != (Percentiles{}) {
		t.Errorf("computePercentiles(nil) = %+v, want zero", got)
	}
	if got := computePercentiles([]time.Duration{7}); got.P50 != 7 || got.P999 != 7 || got.Mean != 7 {
		t.Errorf("computePercentiles of one value = %+v, want 7 everywhere", got)
	}
}

func TestParseServerTiming(t *testing.T) {
	header := `decode;dur=1.234, cache;desc="hit", inference;desc="gpu";DUR="8.5" ,` +
		` bad;dur=abc, neg;dur=-1, nan;dur=NaN, ;dur=3, total;dur=10`
	type metric struct {
		Name string
		D    time.Duration
	}
	var got []metric
	parseServerTiming([]byte(header), func(name []byte, d time.Duration) {
		got = append(got, metric{string(name), d})
	})
	want := []metric{
		{"decode", 1234 * time.Microsecond},
		{"inference", 8500 * time.Microsecond},
		{"total", 10 * time.Millisecond},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parsed metrics (-want +got):\n%s", diff)
	}
}

func TestAddStageAllocs(t *testing.T) {
	st := newWorkerStats(0)
	header := []byte("decode;dur=1.5, inference;dur=10")
	parseServerTiming(header, st.addStage)
	*st.stages["decode"] = make([]time.Duration, 0, 1000)
	*st.stages["inference"] = make([]time.Duration, 0, 1000)
	add := st.addStage

	allocs := testing.AllocsPerRun(100, func() {
		parseServerTiming(header, add)
	})
	if allocs != 0 {
		t.Errorf("parsing a Server-Timing header with known stages allocates %v times, want 0", allocs)
	}
}

func FuzzParseServerTiming(f *testing.F) {
	f.Add([]byte(`decode;dur=1.234, inference;dur="8.5";desc="gpu"`))
	f.Add([]byte(`;;,,=;dur=,dur=1e308`))
	f.Fuzz(func(t *testing.T, header []byte) {
		parseServerTiming(header, func(name []byte, d time.Duration) {
			if len(name) == 0 {
				t.Errorf("empty metric name from %q", header)
			}
			if d < 0 {
				t.Errorf("negative duration %v from %q", d, header)
			}
		})
	})
}

func TestLiveBucketBounds(t *testing.T) {
	for _, d := range []time.Duration{1, 7, 8, 9, 15, 16, 1000, 123456789, time.Hour, math.MaxInt64} {
		i := liveBucket(d)
		if lo := liveBucketLower(i); lo > d || float64(d-lo) > float64(d)*0.125 {
			t.Errorf("duration %d: bucket %d lower bound %d, want within 12.5%% below", d, i, lo)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	valid := Config{URL: "http://127.0.0.1:8080/predict", File: "bus.jpg"}
	if err := valid.Validate(); err != nil {
		t.Fatalf("Validate of a minimal config: %v", err)
	}
	cases := map[string]func(*Config){
		"missing URL":       func(c *Config) { c.URL = "" },
		"ftp scheme":        func(c *Config) { c.URL = "ftp://127.0.0.1/predict" },
		"no host":           func(c *Config) { c.URL = "http:///predict" },
		"no image":          func(c *Config) { c.File = "" },
		"negative workers":  func(c *Config) { c.Concurrency = -1 },
		"too many workers":  func(c *Config) { c.Concurrency = MaxConcurrency + 1 },
		"negative duration": func(c *Config) { c.Duration = -time.Second },
		"NaN rate":          func(c *Config) { c.Rate = math.NaN() },
		"infinite rate":     func(c *Config) { c.Rate = math.Inf(1) },
		"negative rate":     func(c *Config) { c.Rate = -1 },
		"negative timeout":  func(c *Config) { c.Timeout = -time.Second },
		"file field":        func(c *Config) { c.Fields = map[string]string{"file": "x"} },
		"newline field":     func(c *Config) { c.Fields = map[string]string{"a\nb": "x"} },
	}
	for name, mutate := range cases {
		c := valid
		mutate(&c)
		if err := c.Validate(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: Validate error %v, want ErrInvalidConfig", name, err)
		}
	}
}

func TestBuildBodyFilename(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n0000")
	body, contentType, err := buildBody(Config{FileBytes: png, Fields: map[string]string{"b": "2", "a": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(contentType, "multipart/form-data; boundary=") {
		t.Errorf("Content-Type %q, want multipart/form-data with a boundary", contentType)
	}
	for _, want := range []string{`filename="image.png"`, "Content-Type: image/png"} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("body lacks %q", want)
		}
	}
	if a, b := bytes.Index(body, []byte(`name="a"`)), bytes.Index(body, []byte(`name="b"`)); a < 0 || b < a {
		t.Errorf("fields not in sorted order: a at %d, b at %d", a, b)
	}
}

func testReport() Report {
	p := Percentiles{Count: 9, P50: 12 * time.Millisecond, P90: 20 * time.Millisecond, P99: 30 * time.Millisecond,
		P999: 31 * time.Millisecond, Min: 5 * time.Millisecond, Max: 31 * time.Millisecond, Mean: 14 * time.Millisecond}
	return Report{
		Requests: 10, Errors: 1, Duration: 2 * time.Second, Throughput: 4.5, Latency: p,
		StatusCounts: map[int]int{200: 9, 500: 1},
		ErrorSamples: map[string]int{"HTTP 500": 1},
		ServerStages: map[string]Percentiles{"inference": p},
	}
}

func TestWriteJSONKeys(t *testing.T) {
	var buf bytes.Buffer
	if err := testReport().WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("WriteJSON output is not JSON: %v", err)
	}
	want := map[string]any{
		"requests": 10.0, "errors": 1.0, "dropped": 0.0, "duration_s": 2.0, "throughput_rps": 4.5,
		"latency": map[string]any{"count": 9.0, "p50_ms": 12.0, "p90_ms": 20.0, "p99_ms": 30.0,
			"p999_ms": 31.0, "min_ms": 5.0, "max_ms": 31.0, "mean_ms": 14.0},
		"status_counts": map[string]any{"200": 9.0, "500": 1.0},
		"error_samples": map[string]any{"HTTP 500": 1.0},
	}
	delete(got, "server_stages")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("WriteJSON (-want +got):\n%s", diff)
	}
}

func TestWriteTextSections(t *testing.T) {
	var buf bytes.Buffer
	if err := testReport().WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"throughput  4.5 req/s", "client", "12.000ms", "server inference", "500     1", "HTTP 500"} {
		if !strings.Contains(out, want) {
			t.Errorf("WriteText output lacks %q:\n%s", want, out)
		}
	}
}
