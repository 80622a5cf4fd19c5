// Package postprocess turns the raw output tensors of Ultralytics YOLO ONNX
// models into detections in original-image pixels, following the semantics
// of Ultralytics' predictors: strict confidence threshold, per-class NMS,
// at most MaxDet results, no NaN or Inf in the output.
//
// Inspect reads a model's metadata and output shapes once, when the model is
// loaded, and returns a Model that records its layout: raw detect,
// end-to-end, segment, classify, pose, oriented boxes or legacy YOLOv5.
// Models with any other layout are rejected with ErrUnsupportedModel. Model.Postprocess then
// decodes one image's outputs per call.
//
// The package does not run models, decode images or letterbox them: the
// caller passes the Frame that its letterbox used. It has no cgo.
//
// Concurrency: a Model is read-only after Inspect and its Postprocess may be
// called from any number of goroutines at once. Each call allocates its own
// scratch memory.
package postprocess

import "errors"

var (
	// ErrUnsupportedModel is returned by Inspect for a model whose outputs
	// are not an Ultralytics YOLO layout this package can decode.
	ErrUnsupportedModel = errors.New("unsupported model")

	// ErrInvalidMetadata is returned when a metadata value cannot be parsed.
	ErrInvalidMetadata = errors.New("invalid model metadata")

	// ErrOutputMismatch is returned by Postprocess when the output tensors do
	// not match the layout the Model was inspected with.
	ErrOutputMismatch = errors.New("output does not match model layout")
)
