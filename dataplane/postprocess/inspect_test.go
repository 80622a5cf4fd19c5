package postprocess

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/yoloplane/yoloplane/dataplane/tensor"
	"github.com/yoloplane/yoloplane/internal/testshared"
)

type inspectWant struct {
	Task       Task
	Layout     Layout
	NumClasses int
	NumMasks   int
	KptShape   [2]int
	ImgSz      [2]int
	EndToEnd   bool
	FirstName  string
}

func summarize(m Model) inspectWant {
	w := inspectWant{m.Task, m.Layout, m.NumClasses, m.NumMasks, m.KptShape, m.ImgSz, m.EndToEnd, ""}
	if len(m.Names) > 0 {
		w.FirstName = m.Names[0]
	}
	return w
}

func TestInspectRealModels(t *testing.T) {
	tests := []struct {
		file    string
		want    inspectWant
		wantErr string // substring of the error; empty when Inspect must succeed
	}{
		{"yolov8n_int8_640.onnx", inspectWant{TaskDetect, LayoutRawDetect, 80, 0, [2]int{}, [2]int{640, 640}, false, "person"}, ""},
		{"yolov8n_int8_320.onnx", inspectWant{TaskDetect, LayoutRawDetect, 80, 0, [2]int{}, [2]int{320, 320}, false, "person"}, ""},
		{"yolo11n_int8_320.onnx", inspectWant{TaskDetect, LayoutRawDetect, 80, 0, [2]int{}, [2]int{320, 320}, false, "person"}, ""},
		{"yolo26n_int8_e2e_640.onnx", inspectWant{TaskDetect, LayoutEndToEnd, 80, 0, [2]int{}, [2]int{640, 640}, true, "person"}, ""},
		{"yolov8n-seg_int8_320.onnx", inspectWant{TaskSegment, LayoutSegment, 80, 32, [2]int{}, [2]int{320, 320}, false, "person"}, ""},
		{"yolo26n-cls_food101_int8_224.onnx", inspectWant{TaskClassify, LayoutClassify, 101, 0, [2]int{}, [2]int{224, 224}, false, "apple_pie"}, ""},
		{"yolo11n-pose_int8w_deqdq_640.onnx", inspectWant{TaskPose, LayoutPose, 1, 0, [2]int{17, 3}, [2]int{640, 640}, false, "person"}, ""},
		{"yolov5_legacy_5cls_int8_768.onnx", inspectWant{TaskDetect, LayoutLegacyV5, 5, 0, [2]int{}, [2]int{768, 768}, false, "person"}, ""},
		{"yolov8_dynamic_1cls_int8.onnx", inspectWant{TaskDetect, LayoutRawDetect, 1, 0, [2]int{}, [2]int{}, false, "Waste matrix"}, ""},
		{"yolox_nano_416.onnx", inspectWant{}, "unsupported model: output [1 3549 85] is not an Ultralytics YOLO layout (detect, segment, classify, pose, obb, end-to-end or YOLOv5); export the model with Ultralytics"},
		{"fastestdet_352.onnx", inspectWant{}, "unsupported model: output [1 85 22 22] is not an Ultralytics YOLO layout"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			meta, inputs, outputs, err := onnxModelInfo(testshared.Read(t, "models", tt.file))
			if err != nil {
				t.Fatalf("read ONNX protobuf: %v", err)
			}
			m, err := Inspect(meta, inputs, outputs)
			if tt.wantErr != "" {
				if !errors.Is(err, ErrUnsupportedModel) {
					t.Fatalf("Inspect error = %v, want ErrUnsupportedModel", err)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("Inspect error = %q, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Inspect: %v", err)
			}
			if diff := cmp.Diff(tt.want, summarize(m)); diff != "" {
				t.Errorf("Inspect mismatch (-want +got):\n%s", diff)
			}
			if len(m.Names) != m.NumClasses {
				t.Errorf("len(Names) = %d, want %d", len(m.Names), m.NumClasses)
			}
		})
	}
}

func info(shape ...int64) tensor.Info {
	return tensor.Info{Type: tensor.Float32, Shape: shape}
}

func namesLiteral(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf("%d: 'n%d'", i, i)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func ultralyticsMeta(task string, nc int, extra map[string]string) map[string]string {
	m := map[string]string{
		"author": "Ultralytics", "task": task, "stride": "32", "batch": "1",
		"imgsz": "[640, 640]", "names": namesLiteral(nc), "end2end": "False",
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func TestInspectShapes(t *testing.T) {
	img := []tensor.Info{info(1, 3, 640, 640)}
	tests := []struct {
		name    string
		meta    map[string]string
		outputs []tensor.Info
		want    inspectWant
		wantErr error
	}{
		{"obb", ultralyticsMeta("obb", 15, nil), []tensor.Info{info(1, 20, 8400)},
			inspectWant{TaskOBB, LayoutOBB, 15, 0, [2]int{}, [2]int{640, 640}, false, "n0"}, nil},
		{"end-to-end segment", ultralyticsMeta("segment", 80, map[string]string{"end2end": "True"}),
			[]tensor.Info{info(1, 300, 38), info(1, 32, 160, 160)},
			inspectWant{TaskSegment, LayoutEndToEnd, 80, 32, [2]int{}, [2]int{640, 640}, true, "n0"}, nil},
		{"end-to-end pose", ultralyticsMeta("pose", 1, map[string]string{"end2end": "True", "kpt_shape": "[17, 3]"}),
			[]tensor.Info{info(1, 300, 57)},
			inspectWant{TaskPose, LayoutEndToEnd, 1, 0, [2]int{17, 3}, [2]int{640, 640}, true, "n0"}, nil},
		{"end-to-end by shape", map[string]string{}, []tensor.Info{info(1, 300, 6)},
			inspectWant{TaskDetect, LayoutEndToEnd, 0, 0, [2]int{}, [2]int{640, 640}, true, ""}, nil},
		{"no metadata raw detect", map[string]string{}, []tensor.Info{info(1, 84, 8400)},
			inspectWant{TaskDetect, LayoutRawDetect, 80, 0, [2]int{}, [2]int{640, 640}, false, "class0"}, nil},
		{"pose without kpt_shape", ultralyticsMeta("pose", 1, nil), []tensor.Info{info(1, 56, 8400)},
			inspectWant{}, ErrUnsupportedModel},
		{"names count mismatch", ultralyticsMeta("detect", 79, nil), []tensor.Info{info(1, 84, 8400)},
			inspectWant{}, ErrUnsupportedModel},
		{"segment without prototypes", ultralyticsMeta("segment", 80, nil), []tensor.Info{info(1, 116, 8400)},
			inspectWant{}, ErrUnsupportedModel},
		{"fixed batch 4", ultralyticsMeta("detect", 80, nil), []tensor.Info{info(4, 84, 8400)},
			inspectWant{}, ErrUnsupportedModel},
		{"anchors-first without metadata", map[string]string{}, []tensor.Info{info(1, 25200, 85)},
			inspectWant{}, ErrUnsupportedModel},
		{"no outputs", ultralyticsMeta("detect", 80, nil), nil, inspectWant{}, ErrUnsupportedModel},
		{"bad imgsz", ultralyticsMeta("detect", 80, map[string]string{"imgsz": "[640"}), []tensor.Info{info(1, 84, 8400)},
			inspectWant{}, ErrInvalidMetadata},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Inspect(tt.meta, img, tt.outputs)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Inspect error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Inspect: %v", err)
			}
			if diff := cmp.Diff(tt.want, summarize(m)); diff != "" {
				t.Errorf("Inspect mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
