package vision

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"testing"

	"github.com/yoloplane/yoloplane/internal/testshared"
)

// synthImage returns w×h pseudo-random pixels from a 32-bit hash of the
// byte index. The golden hashes in the tests were produced by the same
// generator in numpy, feeding cv2.resize (OpenCV 4.6) and Pillow 9.4.
func synthImage(w, h int, seed uint32) *Image {
	img := NewImage(w, h)
	for i := range img.Pix {
		v := uint32(i)*0x9E3779B1 + seed*0x85EBCA6B
		v ^= v >> 15
		v *= 0x2C1B3C6D
		v ^= v >> 12
		img.Pix[i] = byte(v >> 24)
	}
	return img
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// chwToHWC turns a planar v/255 tensor back into packed bytes.
func chwToHWC(t []float32, w, h int) []byte {
	out := make([]byte, 3*w*h)
	plane := w * h
	for c := range 3 {
		for i := range plane {
			out[3*i+c] = byte(math.Round(float64(t[c*plane+i]) * 255))
		}
	}
	return out
}

func decodeFixture(t testing.TB, elem ...string) (*Image, Format) {
	t.Helper()
	img, f, err := Decode(testshared.Read(t, elem...), DecodeOptions{})
	if err != nil {
		t.Fatalf("decode %v: %v", elem, err)
	}
	return img, f
}

func pixel(img *Image, x, y int) [3]int {
	p := img.Pix[3*(y*img.W+x):]
	return [3]int{int(p[0]), int(p[1]), int(p[2])}
}

func near(a, b [3]int, tol int) bool {
	for i := range a {
		if d := a[i] - b[i]; d > tol || d < -tol {
			return false
		}
	}
	return true
}
