package vision

import (
	"sync"
	"testing"

	"github.com/yoloplane/yoloplane/internal/testshared"
)

// TestConcurrentDecodeAndLetterbox runs the whole predict preprocessing
// from several goroutines at once. Under -race this checks that the package
// keeps no shared mutable state, and every result must equal the
// sequential one.
func TestConcurrentDecodeAndLetterbox(t *testing.T) {
	inputs := [][]byte{
		testshared.Read(t, "images", "bus.jpg"),
		testshared.Read(t, "images", "bus.webp"),
		testshared.Read(t, "cases", "images", "img_exif_orient6.jpg"),
		testshared.Read(t, "cases", "images", "img_png_rgba_transparent_colour.png"),
	}
	run := func(data []byte) string {
		img, _, err := Decode(data, DecodeOptions{})
		if err != nil {
			t.Error(err)
			return ""
		}
		out := make([]float32, 3*320*320)
		LetterboxCHW(img, 320, 320, out)
		cls := make([]float32, 3*64*64)
		ClassifyCHW(img, 64, cls)
		return sha256Hex(chwToHWC(out, 320, 320)) + sha256Hex(chwToHWC(cls, 64, 64))
	}
	want := make([]string, len(inputs))
	for i, in := range inputs {
		want[i] = run(in)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range len(inputs) {
				i := (g + k) % len(inputs)
				if got := run(inputs[i]); got != want[i] {
					t.Errorf("goroutine %d, input %d: result differs from the sequential run", g, i)
				}
			}
		}()
	}
	wg.Wait()
}
