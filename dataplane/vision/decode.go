package vision

import (
	"bytes"
	"errors"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"strings"

	"golang.org/x/image/bmp"
	"golang.org/x/image/webp"

	"github.com/yoloplane/yoloplane/dataplane/vision/libjpeg"
)

// DefaultMaxPixels is the pixel limit used when DecodeOptions.MaxPixels is
// zero. 40 million pixels admits 8K frames (7680×4320 = 33.2 MP) and the
// sensors of current phones, and bounds the decoded RGB buffer at 120 MB;
// a detector receives the image at 640 pixels a side, so nothing larger helps.
const DefaultMaxPixels int64 = 40_000_000

// DecodeOptions limits what Decode accepts.
type DecodeOptions struct {
	// MaxPixels is the largest width×height accepted. Larger images are
	// refused with ErrTooLarge from their header alone, before any pixel
	// buffer is allocated. Zero or less means DefaultMaxPixels.
	MaxPixels int64
}

func (o DecodeOptions) maxPixels() int64 {
	if o.MaxPixels <= 0 {
		return DefaultMaxPixels
	}
	return o.MaxPixels
}

// Image is an 8-bit RGB image, packed and row-major: the pixel at (x, y) is
// Pix[3*(y*W+x) : 3*(y*W+x)+3], and a row is exactly 3*W bytes long.
type Image struct {
	W, H int
	Pix  []byte
}

// NewImage returns a zeroed (black) w×h image.
func NewImage(w, h int) *Image {
	return &Image{W: w, H: h, Pix: make([]byte, 3*w*h)}
}

// Decode decodes data, choosing the decoder from its leading bytes, and
// returns the image upright (EXIF orientation applied) as packed RGB, with
// any alpha channel dropped and the stored colour kept. data is only read,
// and the returned image does not alias it.
//
// Errors match ErrEmpty, ErrUnsupportedFormat, ErrCorrupt, ErrTooLarge or
// ErrAnimated with errors.Is, and their messages are meant for the client.
// Decode never panics: a panic inside a decoder is reported as ErrCorrupt.
func Decode(data []byte, opts DecodeOptions) (img *Image, format Format, err error) {
	if len(data) == 0 {
		return nil, "", ErrEmpty
	}
	format = sniff(data)
	if format == "" {
		return nil, "", newError(ErrUnsupportedFormat,
			"unsupported image format: the data looks like %s; send JPEG, PNG, WebP, GIF or BMP",
			describeUnknown(data))
	}
	defer func() {
		if r := recover(); r != nil {
			img, err = nil, newError(ErrCorrupt,
				"image data is corrupt or truncated: the %s decoder failed on it", format.displayName())
		}
	}()
	maxPixels := opts.maxPixels()
	switch format {
	case FormatJPEG:
		img, err = decodeJPEG(data, maxPixels)
	case FormatPNG:
		img, err = decodePNG(data, maxPixels)
	case FormatWebP:
		img, err = decodeWebP(data, maxPixels)
	case FormatGIF:
		img, err = decodeGIF(data, maxPixels)
	case FormatBMP:
		img, err = decodeBMP(data, maxPixels)
	}
	if err != nil {
		return nil, format, err
	}
	return img, format, nil
}

func (f Format) displayName() string {
	switch f {
	case FormatJPEG:
		return "JPEG"
	case FormatPNG:
		return "PNG"
	case FormatWebP:
		return "WebP"
	case FormatGIF:
		return "GIF"
	case FormatBMP:
		return "BMP"
	}
	return string(f)
}

// checkDimensions refuses headers that declare no pixels or more than
// maxPixels of them. It runs before any decoder allocates the pixel buffer.
func checkDimensions(f Format, w, h int, maxPixels int64) error {
	if w <= 0 || h <= 0 {
		return newError(ErrCorrupt, "image data is corrupt: the %s header declares %dx%d pixels",
			f.displayName(), w, h)
	}
	if n := int64(w) * int64(h); n > maxPixels {
		return newError(ErrTooLarge,
			"image is too large: %dx%d is %d pixels, over the limit of %d; downscale it before sending",
			w, h, n, maxPixels)
	}
	return nil
}

// decodeFailure classifies an error from a standard decoder: a valid file
// that uses a variant the decoder lacks is unsupported, anything else is
// corrupt.
func decodeFailure(f Format, err error) error {
	var jpegUnsupported jpeg.UnsupportedError
	var pngUnsupported png.UnsupportedError
	// image/png reports a header whose width times height overflows an int
	// as an unsupported feature; it is an image too large to accept.
	if errors.As(err, &pngUnsupported) && strings.Contains(err.Error(), "dimension overflow") {
		return newError(ErrTooLarge, "image is too large: its %s header declares more pixels than can be counted; downscale it before sending", f.displayName())
	}
	if errors.As(err, &jpegUnsupported) || errors.As(err, &pngUnsupported) || errors.Is(err, bmp.ErrUnsupported) {
		return newError(ErrUnsupportedFormat,
			"unsupported image format: this %s uses a variant that cannot be decoded (%v); re-encode it as 8-bit JPEG or PNG",
			f.displayName(), err)
	}
	return newError(ErrCorrupt, "image data is corrupt or truncated (%s: %v)", f.displayName(), err)
}

var eoiMarker = []byte{0xff, 0xd9}

func decodeJPEG(data []byte, maxPixels int64) (*Image, error) {
	// libjpeg-turbo is the fast path and decodes exactly as libvips and
	// OpenCV do. Damaged and CMYK files fall through to image/jpeg, whose
	// error handling sets this package's policy for them.
	decoded, err := libjpeg.DecodeImage(data, maxPixels)
	switch {
	case err == nil:
		img := &Image{W: decoded.Width, H: decoded.Height, Pix: decoded.RGB}
		convertProfileToSRGB(img, decoded.Gray, jpegICCProfile(data))
		return orient(img, jpegOrientation(data)), nil
	case errors.Is(err, libjpeg.ErrTooLarge):
		return nil, checkDimensions(FormatJPEG, decoded.Width, decoded.Height, maxPixels)
	}
	return decodeJPEGGo(data, maxPixels)
}

// decodeJPEGGo decodes with the standard library's image/jpeg and this
// package's chroma upsampling.
func decodeJPEGGo(data []byte, maxPixels int64) (*Image, error) {
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, decodeFailure(FormatJPEG, err)
	}
	if err := checkDimensions(FormatJPEG, cfg.Width, cfg.Height, maxPixels); err != nil {
		return nil, err
	}
	// TODO: a progressive JPEG keeps 4 bytes of coefficients per sample
	// (about 240 MB at DefaultMaxPixels in 4:2:0) and may repeat scans
	// without limit, each a pass over the image. Nothing caps the scan
	// count or the decode time yet; libjpeg-turbo's djpeg offers -maxscans.
	m, err := jpeg.Decode(bytes.NewReader(data))
	if errors.Is(err, io.ErrUnexpectedEOF) && !bytes.HasSuffix(data, eoiMarker) {
		// libjpeg, and so libvips, accepts a stream that ends right after
		// its last scan without the EOI marker; image/jpeg wants the marker.
		// A stream cut inside a scan still fails with "short Huffman data".
		m, err = jpeg.Decode(io.MultiReader(bytes.NewReader(data), bytes.NewReader(eoiMarker)))
	}
	if err != nil {
		return nil, decodeFailure(FormatJPEG, err)
	}
	img, err := toRGB(m, FormatJPEG)
	if err != nil {
		return nil, err
	}
	convertToSRGB(img, m, jpegICCProfile(data))
	return orient(img, jpegOrientation(data)), nil
}

func decodePNG(data []byte, maxPixels int64) (*Image, error) {
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, decodeFailure(FormatPNG, err)
	}
	if err := checkDimensions(FormatPNG, cfg.Width, cfg.Height, maxPixels); err != nil {
		return nil, err
	}
	m, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, decodeFailure(FormatPNG, err)
	}
	img, err := toRGB(m, FormatPNG)
	if err != nil {
		return nil, err
	}
	convertToSRGB(img, m, pngICCProfile(data))
	return orient(img, pngOrientation(data)), nil
}

func decodeWebP(data []byte, maxPixels int64) (*Image, error) {
	info := scanWebP(data)
	if info.animated {
		return nil, ErrAnimated
	}
	cfg, err := webp.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, decodeFailure(FormatWebP, err)
	}
	if err := checkDimensions(FormatWebP, cfg.Width, cfg.Height, maxPixels); err != nil {
		return nil, err
	}
	m, err := webp.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, decodeFailure(FormatWebP, err)
	}
	img, err := toRGB(m, FormatWebP)
	if err != nil {
		return nil, err
	}
	convertToSRGB(img, m, info.iccProfile)
	return orient(img, info.orientation), nil
}

// decodeGIF returns the first frame drawn on the logical screen. Pixels
// outside the frame, and transparent ones, come out black, as they do from
// libvips once its alpha channel is dropped.
func decodeGIF(data []byte, maxPixels int64) (*Image, error) {
	cfg, err := gif.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, decodeFailure(FormatGIF, err)
	}
	if err := checkDimensions(FormatGIF, cfg.Width, cfg.Height, maxPixels); err != nil {
		return nil, err
	}
	m, err := gif.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, decodeFailure(FormatGIF, err)
	}
	frame, err := toRGB(m, FormatGIF)
	if err != nil {
		return nil, err
	}
	b := m.Bounds()
	if b.Min == (image.Point{}) && b.Dx() == cfg.Width && b.Dy() == cfg.Height {
		return frame, nil
	}
	canvas := NewImage(cfg.Width, cfg.Height)
	for y := 0; y < frame.H; y++ {
		dst := canvas.Pix[3*((b.Min.Y+y)*canvas.W+b.Min.X):]
		copy(dst[:3*frame.W], frame.Pix[3*y*frame.W:3*(y+1)*frame.W])
	}
	return canvas, nil
}

func decodeBMP(data []byte, maxPixels int64) (*Image, error) {
	cfg, err := bmp.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, decodeFailure(FormatBMP, err)
	}
	if err := checkDimensions(FormatBMP, cfg.Width, cfg.Height, maxPixels); err != nil {
		return nil, err
	}
	m, err := bmp.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, decodeFailure(FormatBMP, err)
	}
	return toRGB(m, FormatBMP)
}
