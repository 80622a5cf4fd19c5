package vision

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/yoloplane/yoloplane/internal/testshared"
)

// fuzzMaxPixels keeps every input the fuzzer makes cheap to decode.
const fuzzMaxPixels = 1 << 20

// FuzzDecode feeds arbitrary bytes to Decode, seeded with every fixture
// image. Decode must not panic, must return one of its sentinel errors or
// a consistent image within the pixel limit, and the image must survive
// the letterbox and classifier preprocessing.
func FuzzDecode(f *testing.F) {
	dirs := []string{filepath.Join(testshared.Path(f, "cases", "images")), testshared.Path(f, "images"), "testdata"}
	for _, dir := range dirs {
		paths, err := filepath.Glob(filepath.Join(dir, "*"))
		if err != nil {
			f.Fatal(err)
		}
		for _, p := range paths {
			if filepath.Ext(p) == ".md" || filepath.Base(p) == "fuzz" {
				continue
			}
			data, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		img, format, err := Decode(data, DecodeOptions{MaxPixels: fuzzMaxPixels})
		if err != nil {
			if img != nil {
				t.Fatalf("image returned with error %v", err)
			}
			for _, s := range []error{ErrEmpty, ErrUnsupportedFormat, ErrCorrupt, ErrTooLarge, ErrAnimated} {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("error %v matches no sentinel", err)
		}
		if format == "" || img.W <= 0 || img.H <= 0 || int64(img.W)*int64(img.H) > fuzzMaxPixels || len(img.Pix) != 3*img.W*img.H {
			t.Fatalf("inconsistent result: %s %dx%d with %d bytes", format, img.W, img.H, len(img.Pix))
		}
		LetterboxCHW(img, 32, 24, make([]float32, 3*32*24))
		ClassifyCHW(img, 16, make([]float32, 3*16*16))
	})
}
