//go:build cgo

package inference

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/yoloplane/yoloplane/dataplane/tensor"
	"github.com/yoloplane/yoloplane/internal/testshared"
)

// initORT loads ONNX Runtime for a test. A missing library skips the test,
// except under CI, where every machine has run `make ort`.
func initORT(tb testing.TB) {
	tb.Helper()
	lib, err := FindLibrary()
	if err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("ONNX Runtime is required under CI: %v", err)
		}
		tb.Skipf("ONNX Runtime not available: %v", err)
	}
	if err := Init(lib); err != nil {
		tb.Fatalf("Init(%q): %v", lib, err)
	}
}

func testConfig() Config {
	return Config{IntraOpThreads: 2, InterOpThreads: 1}
}

func openModel(tb testing.TB, name string) *Session {
	tb.Helper()
	initORT(tb)
	s, err := Open(testshared.Path(tb, "models", name), testConfig())
	if err != nil {
		tb.Fatalf("Open(%s): %v", name, err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

func openBytes(t *testing.T, model []byte) *Session {
	t.Helper()
	initORT(t)
	s, err := OpenBytes(model, testConfig())
	if err != nil {
		t.Fatalf("OpenBytes: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func shapesOf(infos []tensor.Info) [][]int64 {
	out := make([][]int64, len(infos))
	for i, info := range infos {
		out[i] = info.Shape
	}
	return out
}

func tensorShapes(ts []tensor.Tensor) [][]int64 {
	out := make([][]int64, len(ts))
	for i, t := range ts {
		out[i] = t.Shape
	}
	return out
}

// modelCases lists every fixture model with the shapes its documentation
// gives; -1 marks a dynamic axis. The ultralytics field is true when the
// model carries Ultralytics metadata.
var modelCases = []struct {
	file        string
	input       []int64
	outputs     [][]int64
	ultralytics bool
}{
	{"yolov8n_int8_640.onnx", []int64{1, 3, 640, 640}, [][]int64{{1, 84, 8400}}, true},
	{"yolov8n_int8_320.onnx", []int64{1, 3, 320, 320}, [][]int64{{1, 84, 2100}}, true},
	{"yolo11n_int8_320.onnx", []int64{1, 3, 320, 320}, [][]int64{{1, 84, 2100}}, true},
	{"yolo26n_int8_e2e_640.onnx", []int64{1, 3, 640, 640}, [][]int64{{1, 300, 6}}, true},
	{"yolov8n-seg_int8_320.onnx", []int64{1, 3, 320, 320}, [][]int64{{1, 116, 2100}, {1, 32, 80, 80}}, true},
	{"yolo26n-cls_food101_int8_224.onnx", []int64{1, 3, 224, 224}, [][]int64{{1, 101}}, true},
	{"yolo11n-pose_int8w_deqdq_640.onnx", []int64{1, 3, 640, 640}, [][]int64{{1, 56, 8400}}, true},
	{"yolov5_legacy_5cls_int8_768.onnx", []int64{1, 3, 768, 768}, [][]int64{{1, 36288, 10}}, true},
	{"yolov8_dynamic_1cls_int8.onnx", []int64{-1, 3, -1, -1}, [][]int64{{-1, 5, -1}}, true},
	{"yolox_nano_416.onnx", []int64{1, 3, 416, 416}, [][]int64{{1, 3549, 85}}, false},
	{"fastestdet_352.onnx", []int64{1, 3, 352, 352}, [][]int64{{1, 85, 22, 22}}, false},
}

// expectedIO is one model's inputs or outputs as the fixture JSON lists
// them: a shape entry is a number, or a string naming a dynamic axis.
type expectedIO struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Shape []any  `json:"shape"`
}

func (e expectedIO) info() tensor.Info {
	info := tensor.Info{Name: e.Name, Type: tensor.ElementType(e.Type)}
	for _, d := range e.Shape {
		if f, ok := d.(float64); ok {
			info.Shape = append(info.Shape, int64(f))
		} else {
			info.Shape = append(info.Shape, -1)
		}
	}
	return info
}

func expectedModelIO(t *testing.T) map[string]struct{ Inputs, Outputs []expectedIO } {
	t.Helper()
	var all map[string]json.RawMessage
	if err := json.Unmarshal(testshared.Read(t, "models", "expected_predictions.json"), &all); err != nil {
		t.Fatal(err)
	}
	out := map[string]struct{ Inputs, Outputs []expectedIO }{}
	for name, raw := range all {
		if !strings.HasSuffix(name, ".onnx") {
			continue
		}
		var io struct{ Inputs, Outputs []expectedIO }
		if err := json.Unmarshal(raw, &io); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = io
	}
	return out
}

func convertAll(ios []expectedIO) []tensor.Info {
	out := make([]tensor.Info, len(ios))
	for i, io := range ios {
		out[i] = io.info()
	}
	return out
}

func TestOpenFixtureModels(t *testing.T) {
	expected := expectedModelIO(t)
	for _, mc := range modelCases {
		t.Run(mc.file, func(t *testing.T) {
			s := openModel(t, mc.file)

			if diff := cmp.Diff([][]int64{mc.input}, shapesOf(s.Inputs())); diff != "" {
				t.Errorf("input shapes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(mc.outputs, shapesOf(s.Outputs())); diff != "" {
				t.Errorf("output shapes (-want +got):\n%s", diff)
			}

			want, ok := expected[mc.file]
			if !ok {
				t.Fatalf("no entry for %s in expected_predictions.json", mc.file)
			}
			if diff := cmp.Diff(convertAll(want.Inputs), s.Inputs()); diff != "" {
				t.Errorf("inputs against expected_predictions.json (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(convertAll(want.Outputs), s.Outputs()); diff != "" {
				t.Errorf("outputs against expected_predictions.json (-want +got):\n%s", diff)
			}

			names, hasNames := s.Metadata()["names"]
			if mc.ultralytics && (!hasNames || !strings.HasPrefix(names, "{0: ")) {
				t.Errorf("metadata names = %q, %v; want a Python dict literal", names, hasNames)
			}
		})
	}
}

func TestRunFixtureModelsZeroInput(t *testing.T) {
	for _, mc := range modelCases {
		t.Run(mc.file, func(t *testing.T) {
			s := openModel(t, mc.file)
			shape := s.DefaultInputShape()
			want := mc.outputs
			if mc.file == "yolov8_dynamic_1cls_int8.onnx" {
				// A 320x256 input gives (40*32 + 20*16 + 10*8) = 1680 anchors.
				shape = []int64{1, 3, 320, 256}
				want = [][]int64{{1, 5, 1680}}
			}
			out, err := s.Run(make([]float32, tensor.Tensor{Shape: shape}.Len()), shape)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if diff := cmp.Diff(want, tensorShapes(out)); diff != "" {
				t.Errorf("output shapes (-want +got):\n%s", diff)
			}
			for i, o := range out {
				if len(o.Data) != o.Len() {
					t.Errorf("output %d has %d elements, shape %v needs %d", i, len(o.Data), o.Shape, o.Len())
				}
			}
		})
	}
}

func TestWarmupDynamicModel(t *testing.T) {
	s := openModel(t, "yolov8_dynamic_1cls_int8.onnx")
	want := []int64{1, 3}
	h, w := parseImageSize(s.Metadata()["imgsz"])
	want = append(want, h, w)
	if diff := cmp.Diff(want, s.DefaultInputShape()); diff != "" {
		t.Errorf("DefaultInputShape (-want +got):\n%s", diff)
	}
	if err := s.Warmup(); err != nil {
		t.Fatalf("Warmup: %v", err)
	}
}

func randomInput(n int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 0))
	in := make([]float32, n)
	for i := range in {
		in[i] = rng.Float32()
	}
	return in
}

func TestSessionConcurrentRuns(t *testing.T) {
	s := openModel(t, "yolov8n-seg_int8_320.onnx")
	shape := s.DefaultInputShape()
	inputs := [][]float32{
		randomInput(3*320*320, 1),
		randomInput(3*320*320, 2),
	}
	serial := make([][]tensor.Tensor, len(inputs))
	for i, in := range inputs {
		out, err := s.Run(in, shape)
		if err != nil {
			t.Fatal(err)
		}
		serial[i] = out
	}

	const goroutines = 8
	results := make([][]tensor.Tensor, goroutines)
	errs := make([]error, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			results[g], errs[g] = s.Run(inputs[g%len(inputs)], shape)
		})
	}
	wg.Wait()

	for g := range goroutines {
		if errs[g] != nil {
			t.Errorf("goroutine %d: %v", g, errs[g])
			continue
		}
		// cmp.Diff on half a million floats takes seconds under -race, so
		// the data is compared with slices.Equal.
		want := serial[g%len(inputs)]
		if diff := cmp.Diff(tensorShapes(want), tensorShapes(results[g])); diff != "" {
			t.Errorf("goroutine %d output shapes differ from the serial run (-serial +concurrent):\n%s", g, diff)
			continue
		}
		for i := range want {
			if !slices.Equal(want[i].Data, results[g][i].Data) {
				t.Errorf("goroutine %d output %d differs from the serial run", g, i)
			}
		}
	}
}

func TestRunInvalidInput(t *testing.T) {
	s := openModel(t, "yolov8n_int8_320.onnx")
	tests := []struct {
		name  string
		input []float32
		shape []int64
	}{
		{"short input", make([]float32, 10), []int64{1, 3, 320, 320}},
		{"long input", make([]float32, 3*320*320+1), []int64{1, 3, 320, 320}},
		{"wrong size", make([]float32, 3*320*256), []int64{1, 3, 320, 256}},
		{"wrong rank", make([]float32, 3*320*320), []int64{3, 320, 320}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.Run(tt.input, tt.shape); !errors.Is(err, ErrInvalidInput) {
				t.Errorf("Run error = %v, want ErrInvalidInput", err)
			}
		})
	}
	if _, err := s.RunFloat16(make([]uint16, 3*320*320), []int64{1, 3, 320, 320}); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("RunFloat16 on a float32 model: error = %v, want ErrInvalidInput", err)
	}
}

func TestRunAfterClose(t *testing.T) {
	initORT(t)
	s, err := Open(testshared.Path(t, "models", "yolo26n-cls_food101_int8_224.onnx"), testConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := s.Run(make([]float32, 3*224*224), []int64{1, 3, 224, 224}); !errors.Is(err, ErrClosed) {
		t.Errorf("Run after Close: error = %v, want ErrClosed", err)
	}
	if err := s.Warmup(); !errors.Is(err, ErrClosed) {
		t.Errorf("Warmup after Close: error = %v, want ErrClosed", err)
	}
}

func TestOpenRejectsBadModels(t *testing.T) {
	initORT(t)
	model := testshared.Read(t, "models", "yolov8n_int8_320.onnx")
	tests := map[string][]byte{
		"empty":     nil,
		"garbage":   []byte("this is not an ONNX model, just some text\x00\xff\x13"),
		"truncated": model[:len(model)/2],
		"header":    model[:64],
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			s, err := OpenBytes(data, testConfig())
			if err == nil {
				s.Close()
				t.Fatal("OpenBytes accepted a broken model")
			}
		})
	}

	t.Run("missing file", func(t *testing.T) {
		_, err := Open(filepath.Join(t.TempDir(), "none.onnx"), testConfig())
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("error = %v, want os.ErrNotExist", err)
		}
	})
	t.Run("garbage file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "garbage.onnx")
		if err := os.WriteFile(path, randomBytes(4096), 0o644); err != nil {
			t.Fatal(err)
		}
		if s, err := Open(path, testConfig()); err == nil {
			s.Close()
			t.Fatal("Open accepted a garbage file")
		} else if !strings.Contains(err.Error(), path) {
			t.Errorf("error %q does not name the file", err)
		}
	})
	t.Run("invalid config", func(t *testing.T) {
		if _, err := OpenBytes(model, Config{}); err == nil {
			t.Error("OpenBytes accepted a zero Config")
		}
	})
}

func randomBytes(n int) []byte {
	rng := rand.New(rand.NewPCG(7, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func TestOpenRejectsUnsupportedIO(t *testing.T) {
	initORT(t)
	dims := []any{1, 3, 2, 2}
	tests := map[string][]byte{
		"int64 input": unaryModel("Identity", 0,
			valueInfo{elemType: onnxInt64, dims: dims}, valueInfo{elemType: onnxInt64, dims: dims}),
		"int64 output": unaryModel("Cast", onnxInt64,
			valueInfo{elemType: onnxFloat, dims: dims}, valueInfo{elemType: onnxInt64, dims: dims}),
		"two inputs": onnxModel(
			[]node{{op: "Add", inputs: []string{"a", "b"}, outputs: []string{"y"}}},
			[]valueInfo{{"a", onnxFloat, dims}, {"b", onnxFloat, dims}},
			[]valueInfo{{"y", onnxFloat, dims}}, nil),
		"dynamic float16 output": unaryModel("Identity", 0,
			valueInfo{elemType: onnxFloat16, dims: []any{"batch", 3, 2, 2}},
			valueInfo{elemType: onnxFloat16, dims: []any{"batch", 3, 2, 2}}),
	}
	for name, model := range tests {
		t.Run(name, func(t *testing.T) {
			s, err := OpenBytes(model, testConfig())
			if err == nil {
				s.Close()
				t.Fatal("OpenBytes accepted the model")
			}
			if !errors.Is(err, ErrUnsupportedModel) {
				t.Errorf("error = %v, want ErrUnsupportedModel", err)
			}
		})
	}
}

// float16Values covers rounding, subnormals, the largest float16 and
// overflow to infinity.
var float16Values = []float32{0, -0.0, 1.0 / 3, -2.5, 65504, 70000, 1e-7, 0.1, 1 + 0x1p-11, -1e-3, 7, 0.5}

func roundedToFloat16(in []float32) []float32 {
	out := make([]float32, len(in))
	for i, f := range in {
		out[i] = Float16ToFloat32(Float32ToFloat16(f))
	}
	return out
}

func TestRunFloat16InputAndOutput(t *testing.T) {
	dims := []any{1, 3, 2, 2}
	s := openBytes(t, unaryModel("Identity", 0,
		valueInfo{elemType: onnxFloat16, dims: dims}, valueInfo{elemType: onnxFloat16, dims: dims}))
	if got := s.Inputs()[0].Type; got != tensor.Float16 {
		t.Errorf("input type = %q, want float16", got)
	}
	if got := s.Outputs()[0].Type; got != tensor.Float16 {
		t.Errorf("output type = %q, want float16", got)
	}
	shape := []int64{1, 3, 2, 2}
	want := []tensor.Tensor{{Shape: shape, Data: roundedToFloat16(float16Values)}}

	out, err := s.Run(float16Values, shape)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("Run (-want +got):\n%s", diff)
	}

	bits := make([]uint16, len(float16Values))
	Float32sToFloat16s(bits, float16Values)
	out, err = s.RunFloat16(bits, shape)
	if err != nil {
		t.Fatalf("RunFloat16: %v", err)
	}
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("RunFloat16 (-want +got):\n%s", diff)
	}
	if err := s.Warmup(); err != nil {
		t.Errorf("Warmup: %v", err)
	}
}

func TestRunFloat16InputFloat32Output(t *testing.T) {
	dims := []any{1, 3, 2, 2}
	s := openBytes(t, unaryModel("Cast", onnxFloat,
		valueInfo{elemType: onnxFloat16, dims: dims}, valueInfo{elemType: onnxFloat, dims: dims}))
	shape := []int64{1, 3, 2, 2}
	out, err := s.Run(float16Values, shape)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := []tensor.Tensor{{Shape: shape, Data: roundedToFloat16(float16Values)}}
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("Run (-want +got):\n%s", diff)
	}
}

func TestRunFloat32InputFloat16Output(t *testing.T) {
	dims := []any{1, 3, 2, 2}
	s := openBytes(t, unaryModel("Cast", onnxFloat16,
		valueInfo{elemType: onnxFloat, dims: dims}, valueInfo{elemType: onnxFloat16, dims: dims}))
	shape := []int64{1, 3, 2, 2}
	out, err := s.Run(float16Values, shape)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := []tensor.Tensor{{Shape: shape, Data: roundedToFloat16(float16Values)}}
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("Run (-want +got):\n%s", diff)
	}
}

func TestRunDynamicFloat16Input(t *testing.T) {
	// Dynamic float16 inputs are allowed; only float16 outputs need fixed
	// shapes.
	s := openBytes(t, unaryModel("Cast", onnxFloat,
		valueInfo{elemType: onnxFloat16, dims: []any{"batch", 3, "height", "width"}},
		valueInfo{elemType: onnxFloat, dims: []any{"batch", 3, "height", "width"}}))
	shape := []int64{2, 3, 1, 2}
	out, err := s.Run(float16Values, shape)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := []tensor.Tensor{{Shape: shape, Data: roundedToFloat16(float16Values)}}
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("Run (-want +got):\n%s", diff)
	}
}

func dynamicIdentity(metadata map[string]string) []byte {
	dims := []any{"batch", 3, "height", "width"}
	return onnxModel(
		[]node{{op: "Identity", inputs: []string{"images"}, outputs: []string{"output0"}}},
		[]valueInfo{{"images", onnxFloat, dims}},
		[]valueInfo{{"output0", onnxFloat, dims}},
		metadata)
}

func TestDynamicModelMetadataAndShapes(t *testing.T) {
	s := openBytes(t, dynamicIdentity(map[string]string{"imgsz": "[4, 6]", "task": "detect"}))
	if diff := cmp.Diff(map[string]string{"imgsz": "[4, 6]", "task": "detect"}, s.Metadata()); diff != "" {
		t.Errorf("Metadata (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int64{1, 3, 4, 6}, s.DefaultInputShape()); diff != "" {
		t.Errorf("DefaultInputShape (-want +got):\n%s", diff)
	}
	if err := s.Warmup(); err != nil {
		t.Fatalf("Warmup: %v", err)
	}

	shape := []int64{2, 3, 5, 7}
	in := randomInput(2*3*5*7, 3)
	out, err := s.Run(in, shape)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if diff := cmp.Diff([]tensor.Tensor{{Shape: shape, Data: in}}, out); diff != "" {
		t.Errorf("Run (-want +got):\n%s", diff)
	}
}

func TestRunResultsDoNotAliasInput(t *testing.T) {
	dims := []any{1, 3, 2, 2}
	s := openBytes(t, unaryModel("Identity", 0,
		valueInfo{elemType: onnxFloat, dims: dims}, valueInfo{elemType: onnxFloat, dims: dims}))
	in := randomInput(12, 4)
	out, err := s.Run(in, []int64{1, 3, 2, 2})
	if err != nil {
		t.Fatal(err)
	}
	want := append([]float32(nil), in...)
	for i := range in {
		in[i] = -1
	}
	if diff := cmp.Diff(want, out[0].Data); diff != "" {
		t.Errorf("output changed with the reused input buffer (-want +got):\n%s", diff)
	}
}

// rssBytes returns the resident set size from /proc/self/statm.
func rssBytes(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Skipf("no /proc/self/statm: %v", err)
	}
	var size, resident int64
	if _, err := fmt.Sscan(string(b), &size, &resident); err != nil {
		t.Fatalf("parse statm %q: %v", b, err)
	}
	return resident * int64(os.Getpagesize())
}

// Resident memory must stay flat over many runs of a model with dynamic
// outputs, which take the ONNX Runtime-allocated path. Keeping one 3 MiB
// output per run would add about 1.5 GiB over 500 runs. Leaked tensor
// headers alone (about 100 bytes each) are too small to show here.
func TestSessionRunNoLeak(t *testing.T) {
	s := openBytes(t, dynamicIdentity(nil))
	shape := []int64{1, 3, 512, 512}
	in := make([]float32, 3*512*512)
	run := func(times int) {
		for range times {
			if _, err := s.Run(in, shape); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Run(in[:5], shape); err == nil {
				t.Fatal("Run accepted a short input")
			}
		}
		runtime.GC()
		debug.FreeOSMemory()
	}
	run(50)
	before := rssBytes(t)
	run(500)
	after := rssBytes(t)
	const bound = 256 << 20
	if after-before > bound {
		t.Errorf("resident memory grew by %d MiB over 500 runs, bound %d MiB",
			(after-before)>>20, bound>>20)
	}
}
