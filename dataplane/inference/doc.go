// Package inference runs ONNX models through ONNX Runtime: it finds and loads
// the shared library, opens sessions, and turns NCHW float32 input into
// float32 output tensors, converting to and from float16 where the model
// needs it.
//
// It is not the vision pipeline (decoding, letterbox) nor postprocessing
// (boxes, NMS): callers hand it a ready input tensor and interpret the
// outputs themselves. It never logs; every failure is a returned error.
//
// Concurrency: Init and FindLibrary may be called from any goroutine. A
// Session is safe for concurrent Run calls because each call creates and
// destroys its own input and output tensors; ONNX Runtime allows concurrent
// runs on one session. Close waits for runs in flight and makes later calls
// fail with ErrClosed.
//
// The ONNX Runtime code needs cgo. Without cgo the package still builds, but
// Init and Open return ErrNoCgo, so the rest of the binary can be vetted and
// tested anywhere.
package inference
