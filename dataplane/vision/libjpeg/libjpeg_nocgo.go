//go:build !cgo

package libjpeg

// Available reports whether Decode can work in this build.
func Available() bool { return false }

// Decode always returns ErrUnavailable in a build without cgo.
func Decode(data []byte, maxPixels int64) (rgb []byte, w, h int, err error) {
	return nil, 0, 0, ErrUnavailable
}

// DecodeImage always returns ErrUnavailable in a build without cgo.
func DecodeImage(data []byte, maxPixels int64) (Image, error) {
	return Image{}, ErrUnavailable
}
