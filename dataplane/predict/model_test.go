package predict

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/yoloplane/yoloplane/dataplane/inference"
	"github.com/yoloplane/yoloplane/dataplane/postprocess"
	"github.com/yoloplane/yoloplane/internal/testshared"
)

// initRuntime loads ONNX Runtime once, failing under CI when it is missing.
func initRuntime(t testing.TB) {
	t.Helper()
	lib, err := inference.FindLibrary()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("ONNX Runtime library not found under CI: %v", err)
		}
		t.Skipf("ONNX Runtime library not found: %v", err)
	}
	if err := inference.Init(lib); err != nil {
		t.Fatalf("init ONNX Runtime: %v", err)
	}
}

var (
	modelsMu sync.Mutex
	models   = map[string]*Model{}
)

// loadModel loads a fixture model once per test binary.
func loadModel(t testing.TB, file string) *Model {
	t.Helper()
	initRuntime(t)
	modelsMu.Lock()
	defer modelsMu.Unlock()
	if m, ok := models[file]; ok {
		return m
	}
	m, err := Load(testshared.Path(t, "models", file), DefaultConfig())
	if err != nil {
		t.Fatalf("load %s: %v", file, err)
	}
	models[file] = m
	return m
}

// expectedDet is one detection of the reference pipeline.
type expectedDet struct {
	Class int         `json:"cls"`
	Name  string      `json:"name"`
	Conf  float64     `json:"conf"`
	Box   []float64   `json:"xyxy"`
	Kpts  [][]float64 `json:"kpts"`
	Area  float64     `json:"maskAreaOrigPx"`
}

type expectedImage struct {
	Size  []int         `json:"size"`
	Task  string        `json:"task"`
	Count int           `json:"count"`
	Dets  []expectedDet `json:"dets"`
	Top5  []expectedDet `json:"top5"`
}

type expectedModel struct {
	Results map[string]expectedImage `json:"results"`
}

func readExpected(t *testing.T) map[string]expectedModel {
	t.Helper()
	raw := map[string]json.RawMessage{}
	if err := json.Unmarshal(testshared.Read(t, "models", "expected_predictions.json"), &raw); err != nil {
		t.Fatal(err)
	}
	out := map[string]expectedModel{}
	for k, v := range raw {
		if strings.HasPrefix(k, "_") {
			continue
		}
		var m expectedModel
		if err := json.Unmarshal(v, &m); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		out[k] = m
	}
	return out
}

// Tolerances for agreement with the reference pipeline, whose JPEG decoder
// and resizer differ slightly from ours.
const (
	minConf     = 0.5
	maxConfDiff = 0.05
	minIoU      = 0.9
)

func TestExpectedPredictions(t *testing.T) {
	expected := readExpected(t)
	for key, exp := range expected {
		file, variant, _ := strings.Cut(key, "#")
		if file == "yolox_nano_416.onnx" || file == "fastestdet_352.onnx" {
			continue // not Ultralytics exports; refusal is tested below
		}
		t.Run(key, func(t *testing.T) {
			m := loadModel(t, file)
			p := DefaultParams()
			switch {
			case variant == "10":
				// The reference fed this dynamic model at 320x256 with conf 0.05.
				p.ImgSz, p.Conf = 320, 0.05
			case strings.HasPrefix(file, "yolov5_legacy"):
				p.IoU = 0.45 // YOLOv5's own NMS threshold, as the reference used
			}
			for img, want := range exp.Results {
				res, err := m.Predict(context.Background(), testshared.Read(t, "images", img), p)
				if err != nil {
					t.Fatalf("%s: %v", img, err)
				}
				if res.Width != want.Size[0] || res.Height != want.Size[1] {
					t.Errorf("%s: size %dx%d, want %dx%d", img, res.Width, res.Height, want.Size[0], want.Size[1])
				}
				if want.Top5 != nil {
					compareClassify(t, img, res, want)
					continue
				}
				compareDetections(t, img, res, want)
			}
		})
	}
}

func compareClassify(t *testing.T, img string, res *Result, want expectedImage) {
	t.Helper()
	if len(res.Detections) != 5 {
		t.Errorf("%s: %d classes, want top 5", img, len(res.Detections))
		return
	}
	for i, w := range want.Top5 {
		got := res.Detections[i]
		if w.Conf > minConf && got.Class != w.Class {
			t.Errorf("%s: top-%d class %d (%s), want %d (%s)", img, i+1, got.Class, got.Name, w.Class, w.Name)
		}
		if math.Abs(float64(got.Confidence)-w.Conf) > maxConfDiff && w.Conf > 0.01 {
			t.Errorf("%s: top-%d confidence %.3f, want %.3f", img, i+1, got.Confidence, w.Conf)
		}
	}
}

func compareDetections(t *testing.T, img string, res *Result, want expectedImage) {
	t.Helper()
	wantClasses := classCounts(want.Dets, func(d expectedDet) (int, float64) { return d.Class, d.Conf })
	gotClasses := map[int]int{}
	for _, d := range res.Detections {
		if float64(d.Confidence) > minConf+maxConfDiff {
			gotClasses[d.Class]++
		}
	}
	for c := range gotClasses {
		if wantClasses[c] == 0 {
			t.Errorf("%s: class %d detected above %.2f, not in the reference", img, c, minConf+maxConfDiff)
		}
	}
	for _, w := range want.Dets {
		if w.Conf <= minConf {
			continue
		}
		best, bestIoU := -1, 0.0
		for i, d := range res.Detections {
			if d.Class != w.Class {
				continue
			}
			iou := boxIoU(d.Box, w.Box)
			if iou > bestIoU {
				best, bestIoU = i, iou
			}
		}
		if best < 0 || bestIoU < minIoU {
			t.Errorf("%s: no %s box with IoU >= %.1f for %v (best %.3f); got %+v", img, w.Name, minIoU, w.Box, bestIoU, res.Detections)
			continue
		}
		d := res.Detections[best]
		if diff := math.Abs(float64(d.Confidence) - w.Conf); diff > maxConfDiff {
			t.Errorf("%s: %s confidence %.3f, want %.3f", img, w.Name, d.Confidence, w.Conf)
		}
		if w.Kpts != nil {
			compareKeypoints(t, img, d, w)
		}
		if w.Area > 0 {
			area := polygonArea(d.Segment)
			if math.Abs(area-w.Area)/w.Area > 0.2 {
				t.Errorf("%s: %s mask polygon area %.0f px, reference mask area %.0f px", img, w.Name, area, w.Area)
			}
		}
	}
}

func compareKeypoints(t *testing.T, img string, d postprocess.Detection, w expectedDet) {
	t.Helper()
	if len(d.Keypoints) != len(w.Kpts) {
		t.Errorf("%s: %d keypoints, want %d", img, len(d.Keypoints), len(w.Kpts))
		return
	}
	diag := math.Hypot(w.Box[2]-w.Box[0], w.Box[3]-w.Box[1])
	for i, k := range w.Kpts {
		if k[2] < 0.5 {
			continue
		}
		got := d.Keypoints[i]
		if dist := math.Hypot(float64(got[0])-k[0], float64(got[1])-k[1]); dist > 0.05*diag {
			t.Errorf("%s: keypoint %d at (%.1f, %.1f), want (%.1f, %.1f)", img, i, got[0], got[1], k[0], k[1])
		}
		if math.Abs(float64(got[2])-k[2]) > 0.1 {
			t.Errorf("%s: keypoint %d visibility %.3f, want %.3f", img, i, got[2], k[2])
		}
	}
}

func classCounts[T any](items []T, f func(T) (int, float64)) map[int]int {
	out := map[int]int{}
	for _, it := range items {
		c, conf := f(it)
		if conf > minConf-maxConfDiff {
			out[c]++
		}
	}
	return out
}

func boxIoU(a [4]float32, b []float64) float64 {
	ix := math.Max(0, math.Min(float64(a[2]), b[2])-math.Max(float64(a[0]), b[0]))
	iy := math.Max(0, math.Min(float64(a[3]), b[3])-math.Max(float64(a[1]), b[1]))
	inter := ix * iy
	union := float64((a[2]-a[0])*(a[3]-a[1])) + (b[2]-b[0])*(b[3]-b[1]) - inter
	if union <= 0 {
		return 0
	}
	return inter / union
}

func polygonArea(p [][2]float32) float64 {
	var s float64
	for i := range p {
		j := (i + 1) % len(p)
		s += float64(p[i][0])*float64(p[j][1]) - float64(p[j][0])*float64(p[i][1])
	}
	return math.Abs(s) / 2
}

func TestLoadRefusesOtherFamilies(t *testing.T) {
	initRuntime(t)
	for _, file := range []string{"yolox_nano_416.onnx", "fastestdet_352.onnx"} {
		_, err := Load(testshared.Path(t, "models", file), DefaultConfig())
		if !errors.Is(err, postprocess.ErrUnsupportedModel) {
			t.Errorf("%s: error %v, want ErrUnsupportedModel", file, err)
		}
	}
}

func TestOrientationFixtures(t *testing.T) {
	m := loadModel(t, "yolov8n_int8_640.onnx")
	// Without EXIF orientation Portrait_6.jpg shows only a snowboard.
	res, err := m.Predict(context.Background(), testshared.Read(t, "images", "Portrait_6.jpg"), DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	if res.Width != 1200 || res.Height != 1800 {
		t.Errorf("Portrait_6.jpg oriented size %dx%d, want 1200x1800", res.Width, res.Height)
	}
	if len(res.Detections) == 0 || res.Detections[0].Name != "person" {
		t.Errorf("Portrait_6.jpg top detection %+v, want a person", res.Detections)
	}
	upright, err := m.Predict(context.Background(), testshared.Read(t, "images", "zidane.jpg"), DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := m.Predict(context.Background(), testshared.Read(t, "images", "zidane_exif6.jpg"), DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	if len(rotated.Detections) != len(upright.Detections) {
		t.Fatalf("zidane_exif6.jpg: %d detections, zidane.jpg: %d", len(rotated.Detections), len(upright.Detections))
	}
	for i := range upright.Detections {
		if iou := boxIoU(rotated.Detections[i].Box, toF64(upright.Detections[i].Box)); iou < minIoU {
			t.Errorf("detection %d: IoU %.3f between the EXIF-rotated and upright photo", i, iou)
		}
	}
}

func toF64(b [4]float32) []float64 {
	return []float64{float64(b[0]), float64(b[1]), float64(b[2]), float64(b[3])}
}

// TestPredictConcurrent sends 32 predicts at once, alternating two photos,
// and checks each gets its own photo's result.
func TestPredictConcurrent(t *testing.T) {
	m := loadModel(t, "yolov8n_int8_320.onnx")
	images := [][]byte{testshared.Read(t, "images", "bus.jpg"), testshared.Read(t, "images", "zidane.jpg")}
	want := make([]string, 2)
	for i, img := range images {
		res, err := m.Predict(context.Background(), img, DefaultParams())
		if err != nil {
			t.Fatal(err)
		}
		want[i] = summarize(res)
	}
	if want[0] == want[1] {
		t.Fatal("the two photos give the same result; the test could not tell them apart")
	}
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			res, err := m.Predict(context.Background(), images[i%2], DefaultParams())
			if err != nil {
				errs <- err
				return
			}
			if got := summarize(res); got != want[i%2] {
				errs <- fmt.Errorf("request %d: got %s, want %s", i, got, want[i%2])
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// summarize renders a result's classes and rounded boxes for comparison.
func summarize(res *Result) string {
	parts := make([]string, 0, len(res.Detections))
	for _, d := range res.Detections {
		b, _ := json.Marshal([]any{d.Class, math.Round(float64(d.Box[0])), math.Round(float64(d.Box[1])),
			math.Round(float64(d.Box[2])), math.Round(float64(d.Box[3]))})
		parts = append(parts, string(b))
	}
	sort.Strings(parts)
	return strings.Join(parts, ";")
}

func BenchmarkPredictBus640(b *testing.B) {
	m := loadModel(b, "yolov8n_int8_640.onnx")
	img := testshared.Read(b, "images", "bus.jpg")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Predict(context.Background(), img, DefaultParams()); err != nil {
			b.Fatal(err)
		}
	}
}
