//go:build !cgo

package inference

import "github.com/yoloplane/yoloplane/dataplane/tensor"

// Init returns ErrNoCgo: this binary was built without cgo.
func Init(libPath string) error { return ErrNoCgo }

// Session is a loaded model. Without cgo no Session can be created.
type Session struct{}

// Open returns ErrNoCgo: this binary was built without cgo.
func Open(modelPath string, cfg Config) (*Session, error) { return nil, ErrNoCgo }

// OpenBytes returns ErrNoCgo: this binary was built without cgo.
func OpenBytes(model []byte, cfg Config) (*Session, error) { return nil, ErrNoCgo }

// Inputs returns nil.
func (s *Session) Inputs() []tensor.Info { return nil }

// Outputs returns nil.
func (s *Session) Outputs() []tensor.Info { return nil }

// Metadata returns nil.
func (s *Session) Metadata() map[string]string { return nil }

// DefaultInputShape returns nil.
func (s *Session) DefaultInputShape() []int64 { return nil }

// Run returns ErrNoCgo.
func (s *Session) Run(input []float32, inShape []int64) ([]tensor.Tensor, error) {
	return nil, ErrNoCgo
}

// RunFloat16 returns ErrNoCgo.
func (s *Session) RunFloat16(input []uint16, inShape []int64) ([]tensor.Tensor, error) {
	return nil, ErrNoCgo
}

// Warmup returns ErrNoCgo.
func (s *Session) Warmup() error { return ErrNoCgo }

// Close does nothing.
func (s *Session) Close() error { return nil }
