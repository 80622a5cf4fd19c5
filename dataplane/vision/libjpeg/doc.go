// Package libjpeg decodes JPEG images with the system's libjpeg-turbo
// through cgo. It exists because libjpeg-turbo is both several times faster
// than image/jpeg on the predict hot path and the decoder that libvips and
// OpenCV use, so its pixels match what those pipelines feed a model: the
// same integer IDCT and the same smooth ("fancy") chroma upsampling.
//
// Decode keeps no state between calls and is safe for concurrent use. It
// handles only plain decodes: files that libjpeg reports as damaged, and
// CMYK or YCCK files, come back as errors so the caller can use its own
// decoder and error policy for them. Without cgo, Decode returns
// ErrUnavailable.
package libjpeg

import "errors"

var (
	// ErrUnavailable means the binary was built without cgo.
	ErrUnavailable = errors.New("libjpeg decoder unavailable: built without cgo")
	// ErrDamaged means libjpeg decoded the file only with warnings about
	// corrupt or missing data, or failed on it.
	ErrDamaged = errors.New("jpeg data is damaged")
	// ErrColorSpace means the file is CMYK or YCCK, which Decode leaves to
	// the caller.
	ErrColorSpace = errors.New("jpeg color space not handled")
	// ErrTooLarge means the header declares more pixels than allowed.
	ErrTooLarge = errors.New("jpeg image too large")
)

// Image is a decoded JPEG: packed 8-bit RGB, Width*3 bytes per row.
type Image struct {
	RGB           []byte
	Width, Height int
	// Gray is set when the file stores one grey channel; RGB then holds
	// three equal channels.
	Gray bool
}
