package postprocess

import (
	"math/rand/v2"
	"testing"

	"github.com/yoloplane/yoloplane/dataplane/tensor"
)

// sparseDetectOutput imitates a COCO head at 640: low background scores
// everywhere and a few clusters of overlapping confident anchors.
func sparseDetectOutput() tensor.Tensor {
	const nc, n = 80, 8400
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]float32, (4+nc)*n)
	for a := 0; a < n; a++ {
		data[a] = rng.Float32() * 640
		data[n+a] = rng.Float32() * 640
		data[2*n+a] = 10 + rng.Float32()*100
		data[3*n+a] = 10 + rng.Float32()*100
		for c := 0; c < nc; c++ {
			data[(4+c)*n+a] = rng.Float32() * 0.05
		}
	}
	for obj := 0; obj < 8; obj++ {
		cx, cy, cls := 80+float32(obj)*60, 320+float32(obj)*10, obj%3
		for k := 0; k < 12; k++ {
			a := rng.IntN(n)
			data[a], data[n+a] = cx+rng.Float32()*4, cy+rng.Float32()*4
			data[2*n+a], data[3*n+a] = 50, 120
			data[(4+cls)*n+a] = 0.3 + rng.Float32()*0.6
		}
	}
	return tensor.Tensor{Shape: []int64{1, 4 + nc, n}, Data: data}
}

func BenchmarkPostprocessDetect(b *testing.B) {
	m := mustInspect(b, ultralyticsMeta("detect", 80, nil), []tensor.Info{info(1, 3, 640, 640)}, []tensor.Info{info(1, 84, 8400)})
	outputs := []tensor.Tensor{sparseDetectOutput()}
	f := Frame{OrigW: 810, OrigH: 1080, InW: 640, InH: 640, Scale: 640.0 / 1080, PadX: 80}
	p := DefaultParams()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Postprocess(outputs, f, p); err != nil {
			b.Fatal(err)
		}
	}
}

func TestPostprocessDetectAllocations(t *testing.T) {
	// The per-anchor scan reuses pooled scratch, so allocations depend on
	// the number of candidates, not on the 8400 anchors.
	m := mustInspect(t, ultralyticsMeta("detect", 80, nil), []tensor.Info{info(1, 3, 640, 640)}, []tensor.Info{info(1, 84, 8400)})
	outputs := []tensor.Tensor{sparseDetectOutput()}
	p := DefaultParams()
	dets, err := m.Postprocess(outputs, identityFrame, p)
	if err != nil || len(dets) == 0 {
		t.Fatalf("Postprocess = %d detections, %v; want some detections", len(dets), err)
	}
	allocs := testing.AllocsPerRun(20, func() {
		_, _ = m.Postprocess(outputs, identityFrame, p)
	})
	if allocs > 40 {
		t.Errorf("Postprocess allocates %v times per call, want at most 40", allocs)
	}
}
