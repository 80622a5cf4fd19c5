package vision

import (
	"errors"
	"fmt"
)

// Errors returned by Decode, matched with errors.Is. Their messages are
// written for the client that sent the image: each says what to change.
var (
	// ErrEmpty means the input had zero bytes.
	ErrEmpty = errors.New("image is empty: the request carried zero bytes")
	// ErrUnsupportedFormat means the bytes are not one of the decodable
	// formats, or use a variant of one that the decoder cannot read.
	ErrUnsupportedFormat = errors.New("unsupported image format: send JPEG, PNG, WebP, GIF or BMP")
	// ErrCorrupt means the bytes start like a known format but cannot be
	// decoded, for example because the file was cut short.
	ErrCorrupt = errors.New("image data is corrupt or truncated")
	// ErrTooLarge means the header declares more pixels than
	// DecodeOptions.MaxPixels allows. No pixel data was decoded.
	ErrTooLarge = errors.New("image is too large")
	// ErrAnimated means the input is an animated WebP.
	ErrAnimated = errors.New("animated WebP is not supported: send a single frame")
)

// decodeError carries a full client-facing message while still matching its
// sentinel with errors.Is.
type decodeError struct {
	kind error
	msg  string
}

func (e *decodeError) Error() string { return e.msg }
func (e *decodeError) Unwrap() error { return e.kind }

func newError(kind error, format string, args ...any) error {
	return &decodeError{kind: kind, msg: fmt.Sprintf(format, args...)}
}
