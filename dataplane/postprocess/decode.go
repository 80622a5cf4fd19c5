package postprocess

import (
	"fmt"
	"math"
	"sync"

	"github.com/yoloplane/yoloplane/dataplane/tensor"
)

// Postprocess decodes one image's output tensors into detections in
// original-image pixels. outputs are in the model's output order and must
// have batch 1. The result is never nil; it is empty when nothing passes
// the thresholds. Errors wrap ErrOutputMismatch when the tensors do not
// match the inspected layout; invalid params or frame are reported with
// the field that is wrong.
func (m *Model) Postprocess(outputs []tensor.Tensor, f Frame, p Params) ([]Detection, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	pred, proto, err := m.checkOutputs(outputs)
	if err != nil {
		return nil, err
	}
	if m.Layout == LayoutClassify {
		return m.classify(pred.Data, p), nil
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	switch m.Layout {
	case LayoutRawDetect, LayoutSegment, LayoutPose:
		return m.decodeRaw(pred, proto, f, p), nil
	case LayoutOBB:
		return m.decodeOBB(pred, f, p), nil
	case LayoutLegacyV5:
		return m.decodeLegacyV5(pred, f, p), nil
	case LayoutEndToEnd:
		return m.decodeEndToEnd(pred, proto, f, p), nil
	}
	return nil, fmt.Errorf("BUG: model has layout %v, which Inspect never returns", m.Layout)
}

// checkOutputs returns the prediction and prototype tensors after checking
// them against the shapes recorded at inspection.
func (m *Model) checkOutputs(outputs []tensor.Tensor) (pred, proto tensor.Tensor, err error) {
	if m.Layout == LayoutUnknown {
		return pred, proto, fmt.Errorf("%w: the model was not inspected", ErrOutputMismatch)
	}
	if len(outputs) <= max(m.predOutput, m.protoOutput) {
		return pred, proto, fmt.Errorf("%w: got %d outputs, want at least %d",
			ErrOutputMismatch, len(outputs), max(m.predOutput, m.protoOutput)+1)
	}
	pred = outputs[m.predOutput]
	if err := checkShape(pred, m.predShape); err != nil {
		return pred, proto, err
	}
	if m.protoOutput >= 0 {
		proto = outputs[m.protoOutput]
		if err := checkShape(proto, m.protoShape); err != nil {
			return pred, proto, err
		}
	}
	return pred, proto, nil
}

func checkShape(t tensor.Tensor, want []int64) error {
	if len(t.Shape) != len(want) {
		return fmt.Errorf("%w: output shape %v, want %v", ErrOutputMismatch, t.Shape, want)
	}
	for i, d := range t.Shape {
		if d < 0 || (want[i] >= 0 && d != want[i]) {
			return fmt.Errorf("%w: output shape %v, want %v", ErrOutputMismatch, t.Shape, want)
		}
	}
	if t.Shape[0] != 1 {
		return fmt.Errorf("%w: output shape %v has batch %d, want 1", ErrOutputMismatch, t.Shape, t.Shape[0])
	}
	if t.Len() != len(t.Data) {
		return fmt.Errorf("%w: output shape %v needs %d values, got %d", ErrOutputMismatch, t.Shape, t.Len(), len(t.Data))
	}
	return nil
}

// rows is a view of per-detection values that sit either in a
// channels-first head (value j of anchor a at (offset+j)*n + a) or in a
// rows-first output (at a*width + offset + j).
type rows struct {
	data             []float32
	rowStep, colStep int
	offset           int
}

func (r rows) at(row, j int) float32 {
	return r.data[row*r.rowStep+(r.offset+j)*r.colStep]
}

// scratch holds the per-anchor best score and class of a channels-first
// head. It is pooled because a 640 input has 8400 anchors per call.
type scratch struct {
	best []float32
	cls  []int32
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// rawCandidates scans a channels-first [1, C, n] head one class row at a
// time, so that memory is read in order, and returns the anchors whose best
// class score is strictly above conf. A NaN class score makes the anchor's
// best score NaN, as torch's max does, so the anchor is dropped.
func rawCandidates(data []float32, n, nc int, conf float32) []candidate {
	s := scratchPool.Get().(*scratch)
	defer scratchPool.Put(s)
	s.best = grow(s.best, n)
	s.cls = grow(s.cls, n)
	best, cls := s.best[:n], s.cls[:n]
	copy(best, data[4*n:5*n])
	clear(cls)
	for c := 1; c < nc; c++ {
		row := data[(4+c)*n : (5+c)*n]
		for a, v := range row {
			if v > best[a] {
				best[a], cls[a] = v, int32(c)
			} else if v != v {
				best[a] = v
			}
		}
	}
	var out []candidate
	for a, score := range best {
		if !(score > conf) || math.IsInf(float64(score), 1) {
			continue
		}
		cx, cy, w, h := data[a], data[n+a], data[2*n+a], data[3*n+a]
		out = append(out, candidate{index: a, class: int(cls[a]), score: score, box: [4]float32{cx, cy, w, h}})
	}
	return out
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// xywhToXYXY converts candidates in place and drops those with a
// non-finite box, as Ultralytics' xywh2xyxy does for the centre form.
func xywhToXYXY(c []candidate) []candidate {
	out := c[:0]
	for _, cand := range c {
		cx, cy, w, h := cand.box[0], cand.box[1], cand.box[2], cand.box[3]
		dw, dh := w/2, h/2
		cand.box = [4]float32{cx - dw, cy - dh, cx + dw, cy + dh}
		if finiteBox(cand.box) {
			out = append(out, cand)
		}
	}
	return out
}

func (m *Model) decodeRaw(pred, proto tensor.Tensor, f Frame, p Params) []Detection {
	n := int(pred.Shape[2])
	cands := xywhToXYXY(rawCandidates(pred.Data, n, m.NumClasses, p.Conf))
	kept := greedyNMS(sortCandidates(cands), p.IoU, p.Agnostic, p.MaxDet)
	dets := m.detections(kept, f)
	extra := rows{data: pred.Data, rowStep: 1, colStep: n, offset: 4 + m.NumClasses}
	m.addTaskOutputs(dets, kept, extra, proto, f)
	return dets
}

// addTaskOutputs fills masks or keypoints from the values that follow the
// class scores of each kept detection.
func (m *Model) addTaskOutputs(dets []Detection, kept []candidate, extra rows, proto tensor.Tensor, f Frame) {
	switch m.Task {
	case TaskSegment:
		m.addSegments(dets, kept, extra, proto, f)
	case TaskPose:
		m.addKeypoints(dets, kept, extra, f)
	}
}

// detections maps kept xyxy candidates to the original image.
func (m *Model) detections(kept []candidate, f Frame) []Detection {
	dets := make([]Detection, len(kept))
	for i, c := range kept {
		dets[i] = Detection{Class: c.class, Name: m.className(c.class), Confidence: c.score, Box: f.Box(c.box)}
	}
	return dets
}
