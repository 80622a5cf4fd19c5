package vision

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yoloplane/yoloplane/dataplane/vision/libjpeg"
	"github.com/yoloplane/yoloplane/internal/testshared"
)

// libvipsGolden holds the SHA-256 of the packed RGB that libvips 8.14
// (libwebp 1.2.4, libspng) produces for each file with `vips autorot`,
// alpha dropped. Decode must give the same bytes. JPEG files are compared
// with tolerances in sharp_test.go instead, because image/jpeg's IDCT
// rounds differently from libjpeg's. img_png_named.jpg is a PNG.
var libvipsGolden = []struct {
	path   string
	w, h   int
	sha256 string
}{
	{"images/bus.png", 810, 1080, "e1a96479d131155f397d3eb9a28aad08d5205cbcf2418d0c2c13b4bf6168daa5"},
	{"images/zidane_rgba.png", 640, 360, "cb0837ddf945fd1e51bb6aeb2f2caede140150bf83f42a30fee5e67e4033694f"},
	{"images/bus.webp", 810, 1080, "807e8399647b86df166cdff004a27284a0862017a51aff39d0041326b1df3cf2"},
	{"cases/images/img_png_named.jpg", 480, 640, "5cd01da122961a13e6f2f88ea77330ea19d4e456d2a9e798ee3593b03fd3708e"},
	{"cases/images/img_png_rgba_transparent_colour.png", 64, 48, "8fad6554c88be73c3decaf0f2b0345203c9d23d973c7c9c981394e18951f7c7a"},
}

func readGoldenInput(t *testing.T, path string) []byte {
	t.Helper()
	if rest, ok := strings.CutPrefix(path, "testdata/"); ok {
		data, err := os.ReadFile(filepath.Join("testdata", rest))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	return testshared.Read(t, strings.Split(path, "/")...)
}

// TestDecodeMatchesLibvips: lossy WebP (libwebp's upsampler and
// limited-range YUV) and PNG give libvips's bytes exactly.
func TestDecodeMatchesLibvips(t *testing.T) {
	for _, g := range libvipsGolden {
		img, _, err := Decode(readGoldenInput(t, g.path), DecodeOptions{})
		if err != nil {
			t.Errorf("%s: %v", g.path, err)
			continue
		}
		if img.W != g.w || img.H != g.h {
			t.Errorf("%s: %dx%d, want %dx%d", g.path, img.W, img.H, g.w, g.h)
			continue
		}
		if got := sha256Hex(img.Pix); got != g.sha256 {
			t.Errorf("%s: pixels differ from libvips (sha256 %s)", g.path, got)
		}
	}
}

func TestJPEGVariants(t *testing.T) {
	// libjpeg-turbo decodes arithmetic coding; image/jpeg, the decoder of
	// builds without cgo, does not.
	arith, _, err := Decode(readGoldenInput(t, "testdata/jpeg_77x53_arithmetic.jpg"), DecodeOptions{})
	switch {
	case libjpeg.Available() && err != nil:
		t.Errorf("arithmetic-coded JPEG: %v", err)
	case libjpeg.Available() && (arith.W != 77 || arith.H != 53):
		t.Errorf("arithmetic-coded JPEG: %dx%d, want 77x53", arith.W, arith.H)
	case !libjpeg.Available() && !errors.Is(err, ErrUnsupportedFormat):
		t.Errorf("arithmetic-coded JPEG without libjpeg: error %v, want ErrUnsupportedFormat", err)
	}
	// libvips converts CMYK through an ICC profile and this package does
	// not (see convertCMYK), so only the overall colour is compared.
	cmyk, _, err := Decode(readGoldenInput(t, "testdata/jpeg_77x53_adobe_cmyk.jpg"), DecodeOptions{})
	if err != nil {
		t.Fatalf("Adobe CMYK JPEG: %v", err)
	}
	rgb, _, err := Decode(readGoldenInput(t, "testdata/jpeg_77x53_h1v1.jpg"), DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d := meanAbsDiff(cmyk, rgb); d > 25 {
		t.Errorf("Adobe CMYK JPEG differs from the RGB original by %.1f levels on average", d)
	}
}
