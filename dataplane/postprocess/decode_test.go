package postprocess

import (
	"errors"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/yoloplane/yoloplane/dataplane/tensor"
)

var approx = cmpopts.EquateApprox(0, 1e-4)

func mustInspect(t testing.TB, meta map[string]string, inputs, outputs []tensor.Info) Model {
	t.Helper()
	m, err := Inspect(meta, inputs, outputs)
	if err != nil {
		t.Fatalf("Inspect: %v", err)
	}
	return m
}

// channelsFirst builds a [1, C, N] tensor from per-anchor rows.
func channelsFirst(rows [][]float32) tensor.Tensor {
	n, c := len(rows), len(rows[0])
	data := make([]float32, c*n)
	for a, row := range rows {
		for j, v := range row {
			data[j*n+a] = v
		}
	}
	return tensor.Tensor{Shape: []int64{1, int64(c), int64(n)}, Data: data}
}

func rowsFirst(rows [][]float32) tensor.Tensor {
	var data []float32
	for _, r := range rows {
		data = append(data, r...)
	}
	return tensor.Tensor{Shape: []int64{1, int64(len(rows)), int64(len(rows[0]))}, Data: data}
}

func TestFrameMapping(t *testing.T) {
	// An 810x1080 image letterboxed into 640x640: r = 640/1080, 80 px of
	// padding on the left.
	f := Frame{OrigW: 810, OrigH: 1080, InW: 640, InH: 640, Scale: 640.0 / 1080, PadX: 80}
	tests := []struct {
		name string
		in   [4]float32
		want [4]float32
	}{
		{"whole image", [4]float32{80, 0, 560, 640}, [4]float32{0, 0, 810, 1080}},
		{"inside", [4]float32{80 + 59.25925, 118.5185, 320, 320}, [4]float32{100, 200, 405, 540}},
		{"clipped", [4]float32{-20, -5, 700, 900}, [4]float32{0, 0, 810, 1080}},
		{"padding only", [4]float32{0, 10, 60, 20}, [4]float32{0, 16.875, 0, 33.75}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, f.Box(tt.in), approx); diff != "" {
			t.Errorf("%s: Box mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
	if got := f.X(float32(math.NaN())); got != 0 {
		t.Errorf("X(NaN) = %v, want 0", got)
	}
	for _, bad := range []Frame{{}, {OrigW: 1, OrigH: 1, InW: 1, InH: 1}, {OrigW: 1, OrigH: 1, InW: 1, InH: 1, Scale: 1, PadX: math.NaN()}} {
		if bad.Validate() == nil {
			t.Errorf("Frame%+v.Validate() = nil, want an error", bad)
		}
	}
}

func TestPostprocessDetectFrame(t *testing.T) {
	m := mustInspect(t, ultralyticsMeta("detect", 2, nil), []tensor.Info{info(1, 3, 640, 640)}, []tensor.Info{info(1, 6, -1)})
	out := channelsFirst([][]float32{
		{320, 320, 100, 200, 0.1, 0.8}, // class 1
		{600, 40, 100, 100, 0.6, 0.2},  // crosses the right edge
		{100, 100, 10, 10, 0.25, 0.2},  // exactly at conf: dropped
	})
	f := Frame{OrigW: 1280, OrigH: 720, InW: 640, InH: 640, Scale: 0.5, PadY: 140}
	dets, err := m.Postprocess([]tensor.Tensor{out}, f, DefaultParams())
	if err != nil {
		t.Fatalf("Postprocess: %v", err)
	}
	want := []Detection{
		{Class: 1, Name: "n1", Confidence: 0.8, Box: [4]float32{540, 160, 740, 560}},
		{Class: 0, Name: "n0", Confidence: 0.6, Box: [4]float32{1100, 0, 1280, 0}},
	}
	if diff := cmp.Diff(want, dets, approx); diff != "" {
		t.Errorf("detections mismatch (-want +got):\n%s", diff)
	}
}

func TestPostprocessErrors(t *testing.T) {
	m := mustInspect(t, ultralyticsMeta("detect", 2, nil), []tensor.Info{info(1, 3, 640, 640)}, []tensor.Info{info(1, 6, -1)})
	good := channelsFirst([][]float32{{1, 1, 1, 1, 0.5, 0.5}})
	tests := []struct {
		name    string
		outputs []tensor.Tensor
		frame   Frame
		params  Params
		wantIs  error
	}{
		{"no outputs", nil, identityFrame, DefaultParams(), ErrOutputMismatch},
		{"wrong channels", []tensor.Tensor{{Shape: []int64{1, 7, 1}, Data: make([]float32, 7)}}, identityFrame, DefaultParams(), ErrOutputMismatch},
		{"short data", []tensor.Tensor{{Shape: []int64{1, 6, 2}, Data: make([]float32, 6)}}, identityFrame, DefaultParams(), ErrOutputMismatch},
		{"batch 2", []tensor.Tensor{{Shape: []int64{2, 6, 1}, Data: make([]float32, 12)}}, identityFrame, DefaultParams(), ErrOutputMismatch},
		{"conf above 1", []tensor.Tensor{good}, identityFrame, Params{Conf: 1.5, IoU: 0.7, MaxDet: 300, TopK: 5}, nil},
		{"max_det 0", []tensor.Tensor{good}, identityFrame, Params{Conf: 0.25, IoU: 0.7, TopK: 5}, nil},
		{"zero frame", []tensor.Tensor{good}, Frame{}, DefaultParams(), nil},
	}
	for _, tt := range tests {
		_, err := m.Postprocess(tt.outputs, tt.frame, tt.params)
		if err == nil {
			t.Errorf("%s: Postprocess succeeded, want an error", tt.name)
			continue
		}
		if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
			t.Errorf("%s: error = %v, want %v", tt.name, err, tt.wantIs)
		}
	}
}

func TestPostprocessLegacyV5(t *testing.T) {
	meta := map[string]string{"stride": "32", "names": "{0: 'person', 1: 'cup'}"}
	m := mustInspect(t, meta, []tensor.Info{info(1, 3, 640, 640)}, []tensor.Info{info(1, 25200, 7)})
	if m.Layout != LayoutLegacyV5 || m.DefaultParams().IoU != 0.45 {
		t.Fatalf("Layout %v with IoU %v, want yolov5 with 0.45", m.Layout, m.DefaultParams().IoU)
	}
	rows := make([][]float32, 25200)
	for i := range rows {
		rows[i] = make([]float32, 7)
	}
	rows[0] = []float32{100, 100, 20, 40, 0.9, 0.5, 0.3}  // 0.45, class 0
	rows[1] = []float32{300, 300, 20, 20, 0.3, 0.1, 0.9}  // 0.27, class 1
	rows[2] = []float32{500, 500, 20, 20, 0.5, 0.4, 0.4}  // 0.2: dropped
	rows[3] = []float32{500, 500, 20, 20, 0.25, 1.0, 1.0} // objectness at conf: dropped
	rows[4] = []float32{101, 100, 20, 40, 0.8, 0.5, 0.0}  // 0.4, suppressed by row 0
	dets, err := m.Postprocess([]tensor.Tensor{rowsFirst(rows)}, identityFrame, m.DefaultParams())
	if err != nil {
		t.Fatalf("Postprocess: %v", err)
	}
	want := []Detection{
		{Class: 0, Name: "person", Confidence: 0.45, Box: [4]float32{90, 80, 110, 120}},
		{Class: 1, Name: "cup", Confidence: 0.27, Box: [4]float32{290, 290, 310, 310}},
	}
	if diff := cmp.Diff(want, dets, approx); diff != "" {
		t.Errorf("detections mismatch (-want +got):\n%s", diff)
	}
}

func TestPostprocessEndToEnd(t *testing.T) {
	m := mustInspect(t, ultralyticsMeta("detect", 80, map[string]string{"end2end": "True"}),
		[]tensor.Info{info(1, 3, 640, 640)}, []tensor.Info{info(1, 300, 6)})
	rows := make([][]float32, 300)
	for i := range rows {
		rows[i] = make([]float32, 6)
	}
	rows[0] = []float32{10, 20, 30, 40, 0.9, 5}
	rows[1] = []float32{10, 20, 30, 40, 0.25, 1}                   // at conf: dropped
	rows[2] = []float32{10, 20, 30, 40, float32(math.NaN()), 1}    // dropped
	rows[3] = []float32{10, 20, 30, 40, 0.5, float32(math.Inf(1))} // bad class: dropped
	rows[4] = []float32{11, 21, 31, 41, 0.95, 5}                   // no NMS: kept after row 0
	rows[5] = []float32{0, 0, 5, 5, 0.3, 0}                        // beyond max_det 2
	p := DefaultParams()
	p.MaxDet = 2
	dets, err := m.Postprocess([]tensor.Tensor{rowsFirst(rows)}, identityFrame, p)
	if err != nil {
		t.Fatalf("Postprocess: %v", err)
	}
	want := []Detection{
		{Class: 5, Name: "n5", Confidence: 0.9, Box: [4]float32{10, 20, 30, 40}},
		{Class: 5, Name: "n5", Confidence: 0.95, Box: [4]float32{11, 21, 31, 41}},
	}
	if diff := cmp.Diff(want, dets, approx); diff != "" {
		t.Errorf("detections mismatch (-want +got):\n%s", diff)
	}
}

func TestPostprocessClassify(t *testing.T) {
	m := mustInspect(t, ultralyticsMeta("classify", 7, nil), []tensor.Info{info(1, 3, 224, 224)}, []tensor.Info{info(1, 7)})
	tests := []struct {
		name   string
		scores []float32
		want   []int
	}{
		{"probabilities", []float32{0.05, 0.6, 0.1, 0.05, 0.15, 0.03, 0.02}, []int{1, 4, 2, 0, 3}},
		{"logits", []float32{1, 5, -2, 3, 0, 9, 2}, []int{5, 1, 3, 6, 0}},
		{"non-finite dropped", []float32{float32(math.NaN()), 1, 2, 3, 4, 5, 6}, []int{6, 5, 4, 3, 2}},
	}
	for _, tt := range tests {
		dets, err := m.Postprocess([]tensor.Tensor{{Shape: []int64{1, 7}, Data: tt.scores}}, Frame{}, DefaultParams())
		if err != nil {
			t.Fatalf("%s: Postprocess: %v", tt.name, err)
		}
		got := make([]int, len(dets))
		var sum float32
		for i, d := range dets {
			got[i] = d.Class
			sum += d.Confidence
			if d.Box != [4]float32{} || !finite32(d.Confidence) {
				t.Errorf("%s: detection %+v, want a zero box and a finite confidence", tt.name, d)
			}
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: top-5 mismatch (-want +got):\n%s", tt.name, diff)
		}
		if sum > 1.0001 {
			t.Errorf("%s: top-5 confidences sum to %v, want at most 1", tt.name, sum)
		}
	}
	if dets, _ := m.Postprocess([]tensor.Tensor{{Shape: []int64{1, 7}, Data: make([]float32, 7)}}, Frame{}, DefaultParams()); dets[0].Name != "n0" {
		t.Errorf("uniform scores: first class %q, want n0 (stable order)", dets[0].Name)
	}
}

func TestPostprocessPose(t *testing.T) {
	for _, d := range []int{3, 2} {
		meta := ultralyticsMeta("pose", 1, map[string]string{"kpt_shape": "[2, " + string(rune('0'+d)) + "]"})
		m := mustInspect(t, meta, []tensor.Info{info(1, 3, 640, 640)}, []tensor.Info{info(1, int64(5+2*d), -1)})
		kpts := []float32{100, 200, 0.9, 50, -10, 0.1}
		if d == 2 {
			kpts = []float32{100, 200, 50, -10}
		}
		rows := [][]float32{
			append([]float32{100, 100, 50, 50, 0.8}, kpts...),
			append([]float32{400, 400, 50, 50, 0.1}, kpts...),
		}
		f := Frame{OrigW: 1000, OrigH: 1000, InW: 640, InH: 640, Scale: 0.5, PadX: 20, PadY: 0}
		dets, err := m.Postprocess([]tensor.Tensor{channelsFirst(rows)}, f, DefaultParams())
		if err != nil {
			t.Fatalf("d=%d: Postprocess: %v", d, err)
		}
		want := [][3]float32{{160, 400, 0.9}, {60, 0, 0.1}}
		if d == 2 {
			want = [][3]float32{{160, 400, 1}, {60, 0, 1}}
		}
		if len(dets) != 1 {
			t.Fatalf("d=%d: got %d detections, want 1", d, len(dets))
		}
		if diff := cmp.Diff(want, dets[0].Keypoints, approx); diff != "" {
			t.Errorf("d=%d: keypoints mismatch (-want +got):\n%s", d, diff)
		}
	}
}

// bhattacharyyaProbIoU is the closed form of probiou for two axis-aligned
// boxes with the same size: the distance is dx²/(8a) + dy²/(8b), with a
// and b the variances w²/12 and h²/12.
func bhattacharyyaProbIoU(w, h, dx, dy float64) float64 {
	a, b := w*w/12, h*h/12
	bd := dx*dx/(8*a) + dy*dy/(8*b)
	return 1 - math.Sqrt(1-math.Exp(-bd))
}

func TestProbIoU(t *testing.T) {
	box := func(cx, cy, w, h, angle float32) candidate {
		return candidate{box: [4]float32{cx, cy, w, h}, angle: angle}
	}
	tests := []struct {
		name string
		p, q candidate
		want float64
	}{
		{"shifted x", box(0, 0, 12, 12, 0), box(4, 0, 12, 12, 0), bhattacharyyaProbIoU(12, 12, 4, 0)},
		{"shifted y", box(0, 0, 20, 10, 0), box(0, 3, 20, 10, 0), bhattacharyyaProbIoU(20, 10, 0, 3)},
		{"quarter turn is the same box", box(0, 0, 20, 10, 0), box(0, 0, 10, 20, math.Pi/2), 1 - math.Sqrt(2e-7)},
		{"far apart", box(0, 0, 10, 10, 0), box(1000, 0, 10, 10, 0.3), 1 - math.Sqrt(1-math.Exp(-100)+1e-7)},
	}
	for _, tt := range tests {
		if got := probiou(tt.p, tt.q); math.Abs(got-tt.want) > 1e-5 {
			t.Errorf("%s: probiou = %v, want %v", tt.name, got, tt.want)
		}
		if a, b := probiou(tt.p, tt.q), probiou(tt.q, tt.p); math.Abs(a-b) > 1e-12 {
			t.Errorf("%s: probiou not symmetric: %v and %v", tt.name, a, b)
		}
	}
}

func TestPostprocessOBB(t *testing.T) {
	m := mustInspect(t, ultralyticsMeta("obb", 2, nil), []tensor.Info{info(1, 3, 640, 640)}, []tensor.Info{info(1, 7, -1)})
	rows := [][]float32{
		{100, 100, 40, 20, 0.9, 0, 0},             // kept
		{300, 300, 40, 20, 0.1, 0.8, math.Pi / 2}, // kept, turned a quarter
		// A chain along x: B overlaps A, C overlaps B but not A. Fast-NMS
		// drops C too, because B, though suppressed, still counts.
		{500, 500, 12, 12, 0.7, 0, 0},                   // A
		{502.5, 500, 12, 12, 0.6, 0, 0},                 // B: probiou with A about 0.75
		{505, 500, 12, 12, 0.5, 0, 0},                   // C: probiou with A about 0.52
		{100, 100, 40, 20, 0.85, 0, 0},                  // same box as the first: suppressed
		{100, 100, 40, 20, 0.4, 0, float32(math.NaN())}, // dropped
	}
	f := Frame{OrigW: 2000, OrigH: 2000, InW: 640, InH: 640, Scale: 0.5, PadX: 10}
	dets, err := m.Postprocess([]tensor.Tensor{channelsFirst(rows)}, f, DefaultParams())
	if err != nil {
		t.Fatalf("Postprocess: %v", err)
	}
	want := []Detection{
		{Class: 0, Name: "n0", Confidence: 0.9, Box: [4]float32{140, 180, 220, 220},
			Corners: &[4][2]float32{{220, 220}, {220, 180}, {140, 180}, {140, 220}}},
		{Class: 1, Name: "n1", Confidence: 0.8, Box: [4]float32{560, 560, 600, 640},
			Corners: &[4][2]float32{{600, 640}, {600, 560}, {560, 560}, {560, 640}}},
		{Class: 0, Name: "n0", Confidence: 0.7, Box: [4]float32{968, 988, 992, 1012},
			Corners: &[4][2]float32{{992, 1012}, {992, 988}, {968, 988}, {968, 1012}}},
	}
	if diff := cmp.Diff(want, dets, approx); diff != "" {
		t.Errorf("detections mismatch (-want +got):\n%s", diff)
	}
}

func TestRegularizeRBox(t *testing.T) {
	tests := []struct {
		w, h, angle         float64
		wantW, wantH, wantA float64
	}{
		{40, 20, 0.3, 40, 20, 0.3},
		{40, 20, math.Pi/2 + 0.3, 20, 40, 0.3},
		{40, 20, -0.3, 20, 40, math.Pi/2 - 0.3},
		{40, 20, math.Pi + 0.3, 40, 20, 0.3},
	}
	for _, tt := range tests {
		w, h, a := regularizeRBox(tt.w, tt.h, tt.angle)
		if math.Abs(w-tt.wantW) > 1e-9 || math.Abs(h-tt.wantH) > 1e-9 || math.Abs(a-tt.wantA) > 1e-9 {
			t.Errorf("regularizeRBox(%v, %v, %v) = %v, %v, %v; want %v, %v, %v",
				tt.w, tt.h, tt.angle, w, h, a, tt.wantW, tt.wantH, tt.wantA)
		}
	}
}
