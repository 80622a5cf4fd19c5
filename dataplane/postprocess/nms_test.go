package postprocess

import (
	"encoding/json"
	"fmt"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/yoloplane/yoloplane/dataplane/tensor"
	"github.com/yoloplane/yoloplane/internal/testshared"
)

// jsonNumber is a number that the cases file may write as "nan" or "inf".
type jsonNumber float64

func (n *jsonNumber) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		switch s {
		case "nan":
			*n = jsonNumber(math.NaN())
		case "inf":
			*n = jsonNumber(math.Inf(1))
		case "-inf":
			*n = jsonNumber(math.Inf(-1))
		default:
			return fmt.Errorf("unknown number %q", s)
		}
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*n = jsonNumber(f)
	return nil
}

type nmsCase struct {
	Name   string `json:"name"`
	Params struct {
		Conf     float32 `json:"conf"`
		IoU      float32 `json:"iou"`
		MaxDet   int     `json:"max_det"`
		Agnostic bool    `json:"agnostic"`
	} `json:"params"`
	Candidates []struct {
		Box    [4]jsonNumber `json:"box"`
		Scores []jsonNumber  `json:"scores"`
	} `json:"candidates"`
	Expected []struct {
		Index      int        `json:"index"`
		Class      int        `json:"class"`
		Confidence float32    `json:"confidence"`
		Box        [4]float32 `json:"box"`
	} `json:"expected"`
}

func loadNMSCases(t *testing.T) []nmsCase {
	var file struct {
		Cases []nmsCase `json:"cases"`
	}
	if err := json.Unmarshal(testshared.Read(t, "cases", "postprocess", "nms_cases.json"), &file); err != nil {
		t.Fatalf("decode NMS cases: %v", err)
	}
	if len(file.Cases) == 0 {
		t.Fatal("no NMS cases")
	}
	return file.Cases
}

// identityFrame maps input pixels to the same original pixels, with room
// for every box in the cases.
var identityFrame = Frame{OrigW: 4096, OrigH: 4096, InW: 4096, InH: 4096, Scale: 1}

// rawDetectTensor writes xyxy candidates as a [1, 4+nc, N] head in the
// centre form that Ultralytics' detect head outputs.
func rawDetectTensor(boxes [][4]float32, scores [][]float32) tensor.Tensor {
	n, nc := len(boxes), len(scores[0])
	data := make([]float32, (4+nc)*n)
	for a, b := range boxes {
		data[a] = (b[0] + b[2]) / 2
		data[n+a] = (b[1] + b[3]) / 2
		data[2*n+a] = b[2] - b[0]
		data[3*n+a] = b[3] - b[1]
		for c, s := range scores[a] {
			data[(4+c)*n+a] = s
		}
	}
	return tensor.Tensor{Shape: []int64{1, int64(4 + nc), int64(n)}, Data: data}
}

func TestNMSCases(t *testing.T) {
	for _, tc := range loadNMSCases(t) {
		t.Run(tc.Name, func(t *testing.T) {
			var boxes [][4]float32
			var scores [][]float32
			for _, c := range tc.Candidates {
				boxes = append(boxes, [4]float32{float32(c.Box[0]), float32(c.Box[1]), float32(c.Box[2]), float32(c.Box[3])})
				row := make([]float32, len(c.Scores))
				for i, s := range c.Scores {
					row[i] = float32(s)
				}
				scores = append(scores, row)
			}
			nc := len(scores[0])
			m, err := Inspect(map[string]string{"task": "detect", "names": namesLiteral(nc)},
				[]tensor.Info{info(1, 3, 4096, 4096)}, []tensor.Info{info(1, int64(4+nc), -1)})
			if err != nil {
				t.Fatalf("Inspect: %v", err)
			}
			p := Params{Conf: tc.Params.Conf, IoU: tc.Params.IoU, MaxDet: tc.Params.MaxDet, Agnostic: tc.Params.Agnostic, TopK: 5}
			dets, err := m.Postprocess([]tensor.Tensor{rawDetectTensor(boxes, scores)}, identityFrame, p)
			if err != nil {
				t.Fatalf("Postprocess: %v", err)
			}
			if dets == nil {
				t.Fatal("Postprocess returned nil, want a non-nil slice")
			}
			if len(dets) != len(tc.Expected) {
				t.Fatalf("got %d detections, want %d", len(dets), len(tc.Expected))
			}
			for i, want := range tc.Expected {
				got := dets[i]
				if got.Class != want.Class || got.Confidence != want.Confidence || got.Box != want.Box {
					t.Errorf("detection %d = class %d conf %v box %v, want class %d conf %v box %v",
						i, got.Class, got.Confidence, got.Box, want.Class, want.Confidence, want.Box)
				}
				if wantName := fmt.Sprintf("n%d", want.Class); got.Name != wantName {
					t.Errorf("detection %d name = %q, want %q", i, got.Name, wantName)
				}
			}
		})
	}
}

// TestNMSCasesIndices feeds the same cases straight into NMS, after the
// confidence filter, and checks the kept candidate indices.
func TestNMSCasesIndices(t *testing.T) {
	for _, tc := range loadNMSCases(t) {
		t.Run(tc.Name, func(t *testing.T) {
			var boxes [][4]float32
			var scores []float32
			var classes, index []int
			for i, c := range tc.Candidates {
				best, cls := float32(math.Inf(-1)), 0
				for j, s := range c.Scores {
					if float32(s) > best || math.IsNaN(float64(s)) {
						best, cls = float32(s), j
					}
				}
				if !(best > tc.Params.Conf) {
					continue
				}
				boxes = append(boxes, [4]float32{float32(c.Box[0]), float32(c.Box[1]), float32(c.Box[2]), float32(c.Box[3])})
				scores = append(scores, best)
				classes = append(classes, cls)
				index = append(index, i)
			}
			kept := NMS(boxes, scores, classes, tc.Params.IoU, tc.Params.Agnostic, tc.Params.MaxDet)
			if kept == nil {
				t.Fatal("NMS returned nil, want a non-nil slice")
			}
			got := make([]int, len(kept))
			for i, k := range kept {
				got[i] = index[k]
			}
			want := make([]int, len(tc.Expected))
			for i, e := range tc.Expected {
				want[i] = e.Index
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("kept indices mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIoUThresholdIsStrict(t *testing.T) {
	a := [4]float32{0, 0, 10, 10}
	b := [4]float32{0, 0, 10, 5} // IoU exactly 0.5
	if got := iou(a, b); got != 0.5 {
		t.Fatalf("iou = %v, want 0.5", got)
	}
	kept := NMS([][4]float32{a, b}, []float32{0.9, 0.8}, []int{0, 0}, 0.5, false, 300)
	if diff := cmp.Diff([]int{0, 1}, kept); diff != "" {
		t.Errorf("IoU equal to the threshold must be kept (-want +got):\n%s", diff)
	}
	kept = NMS([][4]float32{a, b}, []float32{0.9, 0.8}, []int{0, 0}, 0.49, false, 300)
	if diff := cmp.Diff([]int{0}, kept); diff != "" {
		t.Errorf("IoU above the threshold must be suppressed (-want +got):\n%s", diff)
	}
}

func TestNMSCandidateCap(t *testing.T) {
	// 30001 disjoint boxes: the lowest-scoring one is beyond max_nms and
	// never considered, even with room in maxDet.
	n := maxNMSCandidates + 1
	boxes := make([][4]float32, n)
	scores := make([]float32, n)
	for i := range boxes {
		x := float32(i%200) * 20
		y := float32(i/200) * 20
		boxes[i] = [4]float32{x, y, x + 10, y + 10}
		scores[i] = 1 - float32(i)/float32(2*n)
	}
	classes := make([]int, n)
	for i := range classes {
		classes[i] = i
	}
	kept := NMS(boxes, scores, classes, 0.7, false, n)
	if len(kept) != maxNMSCandidates {
		t.Fatalf("kept %d boxes, want %d", len(kept), maxNMSCandidates)
	}
	if kept[len(kept)-1] != n-2 {
		t.Errorf("last kept index = %d, want %d", kept[len(kept)-1], n-2)
	}
}
