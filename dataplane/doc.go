// Package dataplane is the root of the regional serving node: the vision
// pipeline, ONNX Runtime sessions, postprocessing, predict HTTP handlers and
// request accounting live in its subpackages.
package dataplane
