package postprocess

import (
	"fmt"
	"strconv"

	"github.com/yoloplane/yoloplane/dataplane/tensor"
)

// Task is the Ultralytics task name of a model.
type Task string

const (
	TaskDetect   Task = "detect"
	TaskSegment  Task = "segment"
	TaskClassify Task = "classify"
	TaskPose     Task = "pose"
	TaskOBB      Task = "obb"
)

// Layout is the arrangement of a model's output tensors. N is the number of
// anchors, nc of classes, nm of mask coefficients, k*d of keypoint values.
type Layout int

const (
	LayoutUnknown Layout = iota
	// LayoutRawDetect is [1, 4+nc, N]: cx, cy, w, h, then class scores.
	LayoutRawDetect
	// LayoutEndToEnd is [1, 300, 6+extra]: x1, y1, x2, y2, score, class,
	// then mask coefficients or keypoints; NMS already ran in the graph.
	// Oriented-box models write cx, cy, w, h, score, class, angle instead.
	LayoutEndToEnd
	// LayoutSegment is [1, 4+nc+nm, N] plus prototypes [1, nm, mh, mw].
	LayoutSegment
	// LayoutClassify is [1, nc] class probabilities.
	LayoutClassify
	// LayoutPose is [1, 4+nc+k*d, N] with keypoints in input pixels.
	LayoutPose
	// LayoutOBB is [1, 4+nc+1, N]: cx, cy, w, h, class scores, angle in
	// radians.
	LayoutOBB
	// LayoutLegacyV5 is YOLOv5's [1, N, 5+nc]: cx, cy, w, h, objectness,
	// class scores.
	LayoutLegacyV5
)

var layoutNames = [...]string{"unknown", "raw-detect", "end-to-end", "segment", "classify", "pose", "obb", "yolov5"}

func (l Layout) String() string {
	if l >= 0 && int(l) < len(layoutNames) {
		return layoutNames[l]
	}
	return "Layout(" + strconv.Itoa(int(l)) + ")"
}

// Model describes how to decode one model's outputs. Inspect fills it; it
// is read-only afterwards.
type Model struct {
	Task   Task
	Layout Layout
	// Names is indexed by class id; ids without a name in the metadata get
	// "class{id}".
	Names      []string
	NumClasses int // 0 for end-to-end models without names: ids come from the output
	NumMasks   int // mask coefficients per detection, segment only
	KptShape   [2]int
	Stride     int
	ImgSz      [2]int // input height, width; 0 when the input axis is dynamic
	EndToEnd   bool
	Meta       Metadata

	predOutput  int     // index of the prediction output
	protoOutput int     // index of the prototype output, -1 when none
	predShape   []int64 // expected prediction shape, -1 for dynamic axes
	protoShape  []int64
}

// className returns the name of class id c, generating one for ids beyond
// the metadata names so that an end-to-end model never yields an empty name.
func (m *Model) className(c int) string {
	if c >= 0 && c < len(m.Names) {
		return m.Names[c]
	}
	return "class" + strconv.Itoa(c)
}

// unsupported builds the error for an output that fits no known layout.
func unsupported(shape []int64) error {
	return fmt.Errorf("%w: output %v is not an Ultralytics YOLO layout "+
		"(detect, segment, classify, pose, obb, end-to-end or YOLOv5); export the model with Ultralytics",
		ErrUnsupportedModel, shape)
}

// Inspect determines a model's layout from its metadata and tensor shapes.
// It is meant to run once at load time so that a model that cannot be
// decoded is rejected before the first request. Errors wrap
// ErrUnsupportedModel or ErrInvalidMetadata.
func Inspect(meta map[string]string, inputs, outputs []tensor.Info) (Model, error) {
	md, err := ParseMetadata(meta)
	if err != nil {
		return Model{}, err
	}
	if len(outputs) == 0 {
		return Model{}, fmt.Errorf("%w: the model has no outputs", ErrUnsupportedModel)
	}
	m := Model{Meta: md, Stride: md.Stride, KptShape: md.KptShape, protoOutput: -1}
	m.ImgSz = inputSize(inputs)

	if err := m.findOutputs(outputs); err != nil {
		return Model{}, err
	}
	if err := m.detectLayout(md); err != nil {
		return Model{}, err
	}
	m.Names = classNames(md.Names, m.NumClasses)
	return m, nil
}

// inputSize reads height and width from an NCHW input; a dynamic axis is 0.
func inputSize(inputs []tensor.Info) [2]int {
	if len(inputs) == 0 || len(inputs[0].Shape) != 4 {
		return [2]int{}
	}
	var hw [2]int
	for i, d := range inputs[0].Shape[2:] {
		if d > 0 {
			hw[i] = int(d)
		}
	}
	return hw
}

// findOutputs picks the prediction output and, for segmentation, the 4-D
// prototype output. Ultralytics writes predictions first but the order is
// not relied on.
func (m *Model) findOutputs(outputs []tensor.Info) error {
	m.predOutput = -1
	for i, o := range outputs {
		if err := checkBatch(o.Shape); err != nil {
			return err
		}
		switch {
		case len(o.Shape) == 4 && len(outputs) > 1 && m.protoOutput < 0:
			m.protoOutput = i
		case m.predOutput < 0:
			m.predOutput = i
		}
	}
	if m.predOutput < 0 {
		return unsupported(outputs[0].Shape)
	}
	m.predShape = outputs[m.predOutput].Shape
	if m.protoOutput >= 0 {
		m.protoShape = outputs[m.protoOutput].Shape
		if m.protoShape[1] <= 0 || m.protoShape[2] <= 0 || m.protoShape[3] <= 0 {
			return fmt.Errorf("%w: prototype output %v has a dynamic axis; want [1, nm, mh, mw]",
				ErrUnsupportedModel, m.protoShape)
		}
	}
	return nil
}

// checkBatch rejects a fixed batch larger than one: the server decodes one
// image per call.
func checkBatch(shape []int64) error {
	if len(shape) > 0 && shape[0] > 1 {
		return fmt.Errorf("%w: output %v has batch size %d; export the model with batch 1 or a dynamic batch",
			ErrUnsupportedModel, shape, shape[0])
	}
	return nil
}

func (m *Model) detectLayout(md Metadata) error {
	shape := m.predShape
	switch {
	case len(shape) == 2:
		return m.inspectClassify(md)
	case len(shape) != 3:
		return unsupported(shape)
	case isEndToEnd(md, shape):
		return m.inspectEndToEnd(md)
	case isLegacyV5(md, shape):
		return m.inspectLegacyV5(md)
	case shape[1] > 0 && (shape[2] < 0 || shape[1] < shape[2]):
		return m.inspectRaw(md)
	}
	return unsupported(shape)
}

func isEndToEnd(md Metadata, shape []int64) bool {
	if shape[2] < 6 {
		return false
	}
	if md.EndToEnd || md.NMS {
		return true
	}
	return shape[2] == 6 && (md.Ultralytics || shape[1] == 300)
}

// isLegacyV5 recognises YOLOv5's anchors-first output. YOLOX writes the
// same [1, N, 5+nc] shape with no metadata, so a YOLOv5 export is only
// accepted with the stride or names keys that YOLOv5's exporter writes.
func isLegacyV5(md Metadata, shape []int64) bool {
	if md.Ultralytics || (!md.HasNames && md.Stride == 0) {
		return false
	}
	channels, anchors := shape[2], shape[1]
	return channels > 5 && (anchors < 0 || anchors > channels)
}

func (m *Model) inspectClassify(md Metadata) error {
	shape := m.predShape
	if md.Task != "" && md.Task != TaskClassify {
		return fmt.Errorf("%w: output %v is a classification layout but metadata task is %q",
			ErrUnsupportedModel, shape, md.Task)
	}
	if shape[1] <= 0 {
		return fmt.Errorf("%w: classification output %v has a dynamic class axis", ErrUnsupportedModel, shape)
	}
	m.Task, m.Layout, m.NumClasses = TaskClassify, LayoutClassify, int(shape[1])
	return checkNames(md, m.NumClasses, shape, TaskClassify)
}

func (m *Model) inspectLegacyV5(md Metadata) error {
	m.Task, m.Layout = TaskDetect, LayoutLegacyV5
	m.NumClasses = int(m.predShape[2]) - 5
	return checkNames(md, m.NumClasses, m.predShape, "YOLOv5 detect")
}

// classNames builds the id-indexed names, filling gaps with class{id}.
func classNames(names map[int]string, nc int) []string {
	n := nc
	for id := range names {
		n = max(n, id+1)
	}
	out := make([]string, n)
	for i := range out {
		if name, ok := names[i]; ok {
			out[i] = name
		} else {
			out[i] = "class" + strconv.Itoa(i)
		}
	}
	return out
}

// checkNames verifies that the metadata names agree with the class count
// taken from the output shape. A mismatch means the layout was guessed
// wrong or the metadata belongs to another model.
func checkNames(md Metadata, nc int, shape []int64, task Task) error {
	if nc < 1 {
		return fmt.Errorf("%w: output %v leaves %d class channels for %s; want at least 1",
			ErrUnsupportedModel, shape, nc, task)
	}
	if !md.HasNames {
		return nil
	}
	if len(md.Names) != nc {
		return fmt.Errorf("%w: output %v has %d class channels for %s but metadata names lists %d classes",
			ErrUnsupportedModel, shape, nc, task, len(md.Names))
	}
	for id := range md.Names {
		if id >= nc {
			return fmt.Errorf("%w: metadata names has class id %d, beyond the %d class channels of output %v",
				ErrUnsupportedModel, id, nc, shape)
		}
	}
	return nil
}
