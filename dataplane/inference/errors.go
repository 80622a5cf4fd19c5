package inference

import "errors"

// Errors that callers match with errors.Is.
var (
	// ErrNoCgo is returned by Init and Open in a binary built with
	// CGO_ENABLED=0.
	ErrNoCgo = errors.New("yoloplane was built without cgo; ONNX Runtime needs CGO_ENABLED=1")

	// ErrLibraryNotFound is returned by FindLibrary when no ONNX Runtime
	// shared library exists in any place it searched.
	ErrLibraryNotFound = errors.New("onnx runtime library not found")

	// ErrNotInitialized is returned by Open before a successful Init.
	ErrNotInitialized = errors.New("onnx runtime not initialized: call Init first")

	// ErrClosed is returned by calls on a Session after Close.
	ErrClosed = errors.New("session closed")

	// ErrUnsupportedModel is returned by Open for a model that parses but
	// whose inputs or outputs this package cannot feed or read.
	ErrUnsupportedModel = errors.New("unsupported model")

	// ErrInvalidInput is returned by Run when the input length or shape does
	// not fit the model. It is the caller's mistake, not the model's.
	ErrInvalidInput = errors.New("invalid input")
)
