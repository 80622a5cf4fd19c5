package postprocess

import (
	"fmt"
	"math"
)

// Params are the per-request decoding settings, named as Ultralytics'
// predict arguments (conf, iou, max_det, agnostic_nms).
type Params struct {
	// Conf is the confidence threshold; a detection needs a score strictly
	// above it.
	Conf float32
	// IoU is the NMS threshold; a box whose IoU with a kept box of the same
	// class is strictly above it is suppressed.
	IoU float32
	// MaxDet caps the number of detections per image.
	MaxDet int
	// Agnostic makes NMS suppress across classes.
	Agnostic bool
	// TopK is the number of classes a classification returns.
	TopK int
}

// DefaultParams returns Ultralytics' predict defaults: conf 0.25, iou 0.7,
// max_det 300 and the five classes of Results.probs.top5.
func DefaultParams() Params {
	return Params{Conf: 0.25, IoU: 0.7, MaxDet: 300, TopK: 5}
}

// DefaultParams returns the defaults for this model. YOLOv5 models get
// YOLOv5's own NMS threshold of 0.45, because their heads were trained
// and validated with it.
func (m *Model) DefaultParams() Params {
	p := DefaultParams()
	if m.Layout == LayoutLegacyV5 {
		p.IoU = 0.45
	}
	return p
}

// maxMaxDet bounds MaxDet to the candidate limit that NMS accepts.
const maxMaxDet = maxNMSCandidates

// Validate checks that every field is within its bounds.
func (p Params) Validate() error {
	if !(p.Conf >= 0 && p.Conf <= 1) {
		return fmt.Errorf("invalid conf %v: want a value in [0, 1]", p.Conf)
	}
	if !(p.IoU >= 0 && p.IoU <= 1) {
		return fmt.Errorf("invalid iou %v: want a value in [0, 1]", p.IoU)
	}
	if p.MaxDet < 1 || p.MaxDet > maxMaxDet {
		return fmt.Errorf("invalid max_det %d: want a value in [1, %d]", p.MaxDet, maxMaxDet)
	}
	if p.TopK < 1 {
		return fmt.Errorf("invalid top_k %d: want at least 1", p.TopK)
	}
	return nil
}

// Frame maps model-input coordinates back to the original image, using the
// scale and padding that the letterbox applied:
//
//	x_orig = (x_in - PadX) / Scale, clipped to [0, OrigW]
//	y_orig = (y_in - PadY) / Scale, clipped to [0, OrigH]
type Frame struct {
	OrigW, OrigH int     // original image size in pixels
	InW, InH     int     // model input size in pixels
	Scale        float64 // letterbox resize ratio r
	PadX, PadY   float64 // left and top padding in input pixels
}

// Validate checks that the frame can map coordinates. Classification does
// not use the frame and does not call it.
func (f Frame) Validate() error {
	if f.OrigW < 1 || f.OrigH < 1 {
		return fmt.Errorf("invalid frame original size %dx%d: want at least 1x1", f.OrigW, f.OrigH)
	}
	if f.InW < 1 || f.InH < 1 {
		return fmt.Errorf("invalid frame input size %dx%d: want at least 1x1", f.InW, f.InH)
	}
	if !(f.Scale > 0) || math.IsInf(f.Scale, 0) {
		return fmt.Errorf("invalid frame scale %v: want a finite value above 0", f.Scale)
	}
	if math.IsNaN(f.PadX) || math.IsNaN(f.PadY) || math.IsInf(f.PadX, 0) || math.IsInf(f.PadY, 0) {
		return fmt.Errorf("invalid frame padding %v, %v: want finite values", f.PadX, f.PadY)
	}
	return nil
}

// X maps an input x coordinate to the original image, clipped.
func (f Frame) X(x float32) float32 {
	return clip((float64(x)-f.PadX)/f.Scale, float64(f.OrigW))
}

// Y maps an input y coordinate to the original image, clipped.
func (f Frame) Y(y float32) float32 {
	return clip((float64(y)-f.PadY)/f.Scale, float64(f.OrigH))
}

// Box maps an input xyxy box to the original image, clipped.
func (f Frame) Box(b [4]float32) [4]float32 {
	return [4]float32{f.X(b[0]), f.Y(b[1]), f.X(b[2]), f.Y(b[3])}
}

// clip clamps v to [0, hi]. NaN becomes 0 so that no NaN reaches a caller.
func clip(v, hi float64) float32 {
	if !(v > 0) {
		return 0
	}
	if v > hi {
		return float32(hi)
	}
	return float32(v)
}

// Detection is one decoded object, or one class for classification, in
// original-image pixels.
type Detection struct {
	Class      int
	Name       string
	Confidence float32
	// Box is x1, y1, x2, y2, clipped to the image; zero for classification.
	Box [4]float32
	// Corners are the four corners of an oriented box in Ultralytics'
	// xyxyxyxy order, not clipped, as Ultralytics reports them. OBB only.
	Corners *[4][2]float32
	// Segment is the outline of the largest mask region, clipped. Segment
	// only; nil when the mask is empty.
	Segment [][2]float32
	// Keypoints are x, y (clipped) and visibility in 0..1. Pose only. For
	// models with two values per keypoint the visibility is 1.
	Keypoints [][3]float32
}
