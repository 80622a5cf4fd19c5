//go:build cgo

package inference

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/yoloplane/yoloplane/internal/testshared"
)

// BenchmarkRunYOLOv8n640 measures one Run of the default demo model with
// DefaultConfig, random input, one caller at a time.
func BenchmarkRunYOLOv8n640(b *testing.B) {
	initORT(b)
	s, err := Open(testshared.Path(b, "models", "yolov8n_int8_640.onnx"), DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	shape := []int64{1, 3, 640, 640}
	in := randomInput(3*640*640, 1)
	if err := s.Warmup(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Run(in, shape); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRunYOLOv8n640Threads compares intra-op thread counts for one
// caller (latency) and for several callers sharing the session
// (throughput: ns/op is wall time divided by runs across all callers).
func BenchmarkRunYOLOv8n640Threads(b *testing.B) {
	initORT(b)
	path := testshared.Path(b, "models", "yolov8n_int8_640.onnx")
	shape := []int64{1, 3, 640, 640}
	in := randomInput(3*640*640, 1)
	for _, spinning := range []bool{false, true} {
		for _, threads := range []int{1, 2, 4} {
			for _, callers := range []int{1, 2} {
				name := fmt.Sprintf("spinning=%t/intra=%d/callers=%d", spinning, threads, callers)
				cfg := Config{IntraOpThreads: threads, InterOpThreads: 1, Spinning: spinning}
				b.Run(name, func(b *testing.B) { benchmarkShared(b, path, cfg, in, shape, callers) })
			}
		}
	}
}

func benchmarkShared(b *testing.B, path string, cfg Config, in []float32, shape []int64, callers int) {
	s, err := Open(path, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.Warmup(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	runShared(b, s, in, shape, callers)
}

// runShared makes b.N runs split among callers goroutines.
func runShared(b *testing.B, s *Session, in []float32, shape []int64, callers int) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				if _, err := s.Run(in, shape); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}
