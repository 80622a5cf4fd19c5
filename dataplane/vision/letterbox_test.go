package vision

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

func TestComputeLetterbox(t *testing.T) {
	cases := []struct {
		srcW, srcH, dstW, dstH int
		want                   Letterbox
	}{
		// The geometry fixtures: 360.5 rounds half to even, padding splits
		// unevenly, and odd padding puts the extra pixel right or bottom.
		{1280, 721, 640, 640, Letterbox{Scale: 0.5, NewW: 640, NewH: 360, Left: 0, Top: 140, Right: 0, Bottom: 140}},
		{3775, 1571, 1280, 1280, Letterbox{Scale: 1280.0 / 3775, NewW: 1280, NewH: 533, Left: 0, Top: 373, Right: 0, Bottom: 374}},
		{3775, 1571, 640, 640, Letterbox{Scale: 640.0 / 3775, NewW: 640, NewH: 266, Left: 0, Top: 187, Right: 0, Bottom: 187}},
		{1600, 2128, 640, 640, Letterbox{Scale: 640.0 / 2128, NewW: 481, NewH: 640, Left: 79, Top: 0, Right: 80, Bottom: 0}},
		{640, 480, 640, 640, Letterbox{Scale: 1, NewW: 640, NewH: 480, Left: 0, Top: 80, Right: 0, Bottom: 80}},
		// Non-square inputs of dynamic models.
		{810, 1080, 256, 320, Letterbox{Scale: 320.0 / 1080, NewW: 240, NewH: 320, Left: 8, Top: 0, Right: 8, Bottom: 0}},
		{810, 1080, 320, 256, Letterbox{Scale: 256.0 / 1080, NewW: 192, NewH: 256, Left: 64, Top: 0, Right: 64, Bottom: 0}},
		{1280, 720, 640, 384, Letterbox{Scale: 0.5, NewW: 640, NewH: 360, Left: 0, Top: 12, Right: 0, Bottom: 12}},
		// Upscaling, and a size whose half-padding is exactly .5.
		{100, 50, 640, 640, Letterbox{Scale: 6.4, NewW: 640, NewH: 320, Left: 0, Top: 160, Right: 0, Bottom: 160}},
		{640, 639, 640, 640, Letterbox{Scale: 1, NewW: 640, NewH: 639, Left: 0, Top: 0, Right: 0, Bottom: 1}},
		// An aspect ratio so extreme that the short side would round to 0.
		{10000, 1, 640, 640, Letterbox{Scale: 0.064, NewW: 640, NewH: 1, Left: 0, Top: 319, Right: 0, Bottom: 320}},
		{0, 10, 640, 640, Letterbox{}},
	}
	for _, c := range cases {
		got := ComputeLetterbox(c.srcW, c.srcH, c.dstW, c.dstH)
		if got != c.want {
			t.Errorf("%dx%d → %dx%d: got %+v, want %+v", c.srcW, c.srcH, c.dstW, c.dstH, got, c.want)
		}
	}
}

func TestComputeLetterboxFillsTarget(t *testing.T) {
	for _, src := range [][2]int{{810, 1080}, {1280, 721}, {3775, 1571}, {1, 1}, {7, 3000}} {
		for _, dst := range [][2]int{{640, 640}, {320, 256}, {256, 320}, {1280, 1280}, {32, 32}} {
			lb := ComputeLetterbox(src[0], src[1], dst[0], dst[1])
			if lb.Left+lb.NewW+lb.Right != dst[0] || lb.Top+lb.NewH+lb.Bottom != dst[1] {
				t.Errorf("%v → %v: %+v does not add up", src, dst, lb)
			}
		}
	}
}

// TestLetterboxFixtures runs the README's geometry cases on the fixture
// images and checks where the padding stops: the scenes are grey (128)
// and the padding 114.
func TestLetterboxFixtures(t *testing.T) {
	cases := []struct {
		file string
		dst  int
	}{
		{"img_1280x721_halfpixel.jpg", 640},
		{"img_3775x1571_padround.jpg", 1280},
		{"img_3775x1571_padround.jpg", 640},
		{"img_1600x2128_oddpad.jpg", 640},
	}
	for _, c := range cases {
		img, _ := decodeFixture(t, "cases", "images", c.file)
		out := make([]float32, 3*c.dst*c.dst)
		lb := LetterboxCHW(img, c.dst, c.dst, out)
		if lb != ComputeLetterbox(img.W, img.H, c.dst, c.dst) {
			t.Errorf("%s: LetterboxCHW returned %+v", c.file, lb)
		}
		pad := float32(114) / 255
		at := func(x, y int) float32 { return out[c.dst*c.dst+y*c.dst+x] } // green plane
		if lb.Top > 0 {
			x := c.dst / 2
			if at(x, lb.Top-1) != pad || at(x, lb.Top) == pad || at(x, lb.Top+lb.NewH-1) == pad || at(x, lb.Top+lb.NewH) != pad {
				t.Errorf("%s: padding does not stop at rows %d and %d", c.file, lb.Top, lb.Top+lb.NewH)
			}
		}
		if lb.Left > 0 {
			y := c.dst / 2
			if at(lb.Left-1, y) != pad || at(lb.Left, y) == pad || at(lb.Left+lb.NewW-1, y) == pad || at(lb.Left+lb.NewW, y) != pad {
				t.Errorf("%s: padding does not stop at columns %d and %d", c.file, lb.Left, lb.Left+lb.NewW)
			}
		}
	}
}

// TestLetterboxTinyBilinear checks a 2×2 image scaled to 4×4 against
// bilinear interpolation worked out by hand. With half-pixel centres the
// output columns sample the source at -0.25 (clamped to 0), 0.25, 0.75
// and 1.25 (clamped to 1), and rows likewise. In red:
//
//	source   0 100     rows after the horizontal pass   0  25  75 100
//	       200  40                                     200 160  80  40
//
// and the middle output rows are 3:1 and 1:3 blends of those, e.g.
// 0.75·25 + 0.25·160 = 58.75 → 59. Green is 255 minus red, blue constant.
func TestLetterboxTinyBilinear(t *testing.T) {
	src := &Image{W: 2, H: 2, Pix: []byte{
		0, 255, 7, 100, 155, 7,
		200, 55, 7, 40, 215, 7,
	}}
	wantR := [][]int{
		{0, 25, 75, 100},
		{50, 59, 76, 85},   // 50, 58.75, 76.25, 85
		{150, 126, 79, 55}, // 150, 126.25, 78.75, 55
		{200, 160, 80, 40},
	}
	wantG := [][]int{
		{255, 230, 180, 155},
		{205, 196, 179, 170}, // 205, 196.25, 178.75, 170
		{105, 129, 176, 200}, // 105, 128.75, 176.25, 200
		{55, 95, 175, 215},
	}
	// 4×6 adds one padding row above and one below.
	for _, dstH := range []int{4, 6} {
		out := make([]float32, 3*4*dstH)
		lb := LetterboxCHW(src, 4, dstH, out)
		top := (dstH - 4) / 2
		if lb.NewW != 4 || lb.NewH != 4 || lb.Top != top || lb.Scale != 2 {
			t.Fatalf("dstH %d: geometry %+v", dstH, lb)
		}
		plane := 4 * dstH
		for y := range dstH {
			for x := range 4 {
				want := [3]int{114, 114, 114}
				if y >= top && y < top+4 {
					want = [3]int{wantR[y-top][x], wantG[y-top][x], 7}
				}
				for c := range 3 {
					got := out[c*plane+y*4+x]
					if got != float32(want[c])/255 {
						t.Errorf("dstH %d: channel %d at (%d,%d) = %v (%.2f/255), want %d/255",
							dstH, c, x, y, got, got*255, want[c])
					}
				}
			}
		}
	}
}

// TestResizeMatchesOpenCV compares hashes of ResizeLinear output with
// cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR) from OpenCV 4.6
// on the same synthetic images.
func TestResizeMatchesOpenCV(t *testing.T) {
	cases := []struct {
		srcW, srcH, dstW, dstH int
		sha256                 string
	}{
		{810, 1080, 481, 640, "6a3eab10b4eb480edd719fb4a241a6e45e0b19bac3fdb2a65fbbd0c866041519"},
		{1280, 721, 640, 360, "0fad017acf185c2b68abd42ef07ebfb1ca1be053ca75ec6077bcdd3983c4d536"},
		{3775, 1571, 1280, 533, "77eb13ed43392ce6989e1ef4450bed787e4d75704c81c0ff8315d4d5e7222f3a"},
		{1600, 2128, 481, 640, "412fc8908e02e9cb6750c78f18d5b1f7ec1ac33430a9b8a57dbb1b2bb6ead28f"},
		{100, 50, 640, 320, "98d7708f9b13a1dfbbc96c58ab84f173e495f42fd9cd730bfecd8f79b408cf19"},
		{33, 17, 256, 129, "ea4ec760487dae2faecfe387cd69850a682993600ac427b17d6a68c501a9c443"},
		{1280, 1280, 640, 640, "804f7ca6b7562bc98eefbadbfe3217ab87255035524a481603d152c3f9625e72"},
		{5, 7, 3, 2, "4263ff8f0e5b846654060dc702e7bf02a62b302e89ee8e18a386808d69eb1907"},
		{1, 1, 7, 9, "1c0876c6ac2a54df1d732a012447d58714a914f21b60a16109787daa5d3e4da5"},
		{17, 9, 17, 20, "29f048fed9af93ab72b768f9951794df01035ba0cc2ac30e34de3d4704de1eb5"},
		{300, 200, 299, 201, "846a315d412ae2d01b69f7ed1905a7334d10a1b521ada520809f7fe4610cf56d"},
		{97, 61, 203, 131, "a2b91cb4fc68ac36f003fc214ea83b19d67c5d1e91fa4f798c58a8e3a38ddd83"},
		{2, 3, 1, 1, "b322b05498557fdbfdc4c723d6df63f4f01806f4be63019b73d0a26fce54552f"},
	}
	for _, c := range cases {
		src := synthImage(c.srcW, c.srcH, uint32(c.srcW*31+c.srcH))
		got := sha256Hex(ResizeLinear(src, c.dstW, c.dstH).Pix)
		if got != c.sha256 {
			t.Errorf("%dx%d → %dx%d: output differs from OpenCV (sha256 %s)", c.srcW, c.srcH, c.dstW, c.dstH, got)
		}
	}
}

func TestLetterboxSkipsResizeAtSize(t *testing.T) {
	src := synthImage(640, 480, 1)
	out := make([]float32, 3*640*640)
	LetterboxCHW(src, 640, 640, out)
	got := chwToHWC(out, 640, 640)[3*640*80:][:3*640*480]
	if sha256Hex(got) != sha256Hex(src.Pix) {
		t.Error("a 640×480 image letterboxed to 640 is not copied unchanged")
	}
}

func TestLetterboxCHW16MatchesFloat32(t *testing.T) {
	src := synthImage(810, 1080, 3)
	f32 := make([]float32, 3*320*256)
	f16 := make([]uint16, 3*320*256)
	lb32 := LetterboxCHW(src, 320, 256, f32)
	lb16 := LetterboxCHW16(src, 320, 256, f16)
	if lb32 != lb16 {
		t.Fatalf("geometry differs: %+v and %+v", lb32, lb16)
	}
	for i := range f32 {
		if f16[i] != Float32ToFloat16(f32[i]) {
			t.Fatalf("value %d: float16 %#04x, float32 %v", i, f16[i], f32[i])
		}
	}
}

func TestLetterboxWrongLengthPanics(t *testing.T) {
	defer func() {
		r := recover()
		if msg := fmt.Sprint(r); !strings.HasPrefix(msg, "BUG: ") {
			t.Errorf("panic %q, want a BUG: message", msg)
		}
	}()
	LetterboxCHW(synthImage(4, 4, 0), 8, 8, make([]float32, 3*8*8-1))
}

func TestFloatLUT(t *testing.T) {
	for i := range 256 {
		if want := float32(i) / 255; lut32[i] != want || math.IsNaN(float64(lut32[i])) {
			t.Fatalf("lut32[%d] = %v, want %v", i, lut32[i], want)
		}
	}
}
