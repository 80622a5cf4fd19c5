//go:build !cgo

package inference

import (
	"errors"
	"testing"
)

func TestNoCgoErrors(t *testing.T) {
	if err := Init("/any/libonnxruntime.so"); !errors.Is(err, ErrNoCgo) {
		t.Errorf("Init error = %v, want ErrNoCgo", err)
	}
	if _, err := Open("model.onnx", DefaultConfig()); !errors.Is(err, ErrNoCgo) {
		t.Errorf("Open error = %v, want ErrNoCgo", err)
	}
	if _, err := OpenBytes([]byte{1}, DefaultConfig()); !errors.Is(err, ErrNoCgo) {
		t.Errorf("OpenBytes error = %v, want ErrNoCgo", err)
	}
}
