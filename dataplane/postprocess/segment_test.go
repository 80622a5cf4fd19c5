package postprocess

import (
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/yoloplane/yoloplane/dataplane/tensor"
)

// maskFromArt builds a binary mask from rows of '#' (foreground) and '.'.
func maskFromArt(x0, y0 int, art ...string) binaryMask {
	m := binaryMask{x0: x0, y0: y0, w: len(art[0]), h: len(art)}
	for _, row := range art {
		for _, c := range row {
			m.pix = append(m.pix, c == '#')
		}
	}
	return m
}

func shoelace(pts [][2]float32) float64 {
	var s float64
	for i := range pts {
		a, b := pts[i], pts[(i+1)%len(pts)]
		s += float64(a[0])*float64(b[1]) - float64(b[0])*float64(a[1])
	}
	return math.Abs(s) / 2
}

func TestLargestExternalContour(t *testing.T) {
	tests := []struct {
		name string
		mask binaryMask
		want [][2]int
	}{
		{"empty", maskFromArt(0, 0, "...", "..."), nil},
		{"single pixel", maskFromArt(5, 7, "...", ".#.", "..."), [][2]int{{6, 8}}},
		{"line", maskFromArt(0, 0, "###"), [][2]int{{0, 0}, {2, 0}}},
		{"square with offset", maskFromArt(10, 20, "....", ".##.", ".##.", "...."),
			[][2]int{{11, 21}, {11, 22}, {12, 22}, {12, 21}}},
		{"ring keeps only the outer border", maskFromArt(0, 0,
			"#####",
			"#...#",
			"#...#",
			"#####"), [][2]int{{0, 0}, {0, 3}, {4, 3}, {4, 0}}},
		{"blob inside a hole is not external", maskFromArt(0, 0,
			"#########",
			"#.......#",
			"#.#.#.#.#",
			"#..#.#..#",
			"#.......#",
			"#########"), [][2]int{{0, 0}, {0, 5}, {8, 5}, {8, 0}}},
		{"more points wins", maskFromArt(0, 0,
			"##.......",
			"##..#.#.#",
			"....##.#.",
			"........."), [][2]int{{4, 1}, {4, 2}, {5, 2}, {6, 1}, {7, 2}, {8, 1}, {7, 2}, {6, 1}, {5, 2}}},
	}
	for _, tt := range tests {
		got := tt.mask.largestExternalContour()
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: contour mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestContourAreaOfDisc(t *testing.T) {
	// A filled disc of radius 20: the polygon through the centres of its
	// border pixels encloses about pi*(r-0.5)^2.
	const r = 20
	var art []string
	for y := -r - 2; y <= r+2; y++ {
		var b strings.Builder
		for x := -r - 2; x <= r+2; x++ {
			if x*x+y*y <= r*r {
				b.WriteByte('#')
			} else {
				b.WriteByte('.')
			}
		}
		art = append(art, b.String())
	}
	pts := maskFromArt(0, 0, art...).largestExternalContour()
	poly := make([][2]float32, len(pts))
	for i, p := range pts {
		poly[i] = [2]float32{float32(p[0]), float32(p[1])}
	}
	want := math.Pi * (r - 0.5) * (r - 0.5)
	if got := shoelace(poly); math.Abs(got-want)/want > 0.02 {
		t.Errorf("disc outline area = %v, want %v within 2%%", got, want)
	}
}

func TestPostprocessSegment(t *testing.T) {
	// A 32x32 input with 8x8 prototypes and one mask coefficient. The
	// prototype is positive everywhere, so the mask is the box crop after
	// bilinear upsampling: the crop keeps prototype cells 2..5 of the box
	// [8, 8, 24, 24] and upsampling spreads it to input pixels 6..25.
	meta := ultralyticsMeta("segment", 1, nil)
	m := mustInspect(t, meta, []tensor.Info{info(1, 3, 32, 32)},
		[]tensor.Info{info(1, 6, -1), info(1, 1, 8, 8)})
	if m.Layout != LayoutSegment || m.NumMasks != 1 {
		t.Fatalf("Layout %v with %d masks, want segment with 1", m.Layout, m.NumMasks)
	}

	pred := channelsFirst([][]float32{
		{16, 16, 16, 16, 0.9, 2}, // box [8, 8, 24, 24], coefficient 2
		{4, 4, 4, 4, 0.8, -1},    // negative logits: empty mask
		{28, 28, 8, 8, 0.1, 1},   // below conf
	})
	protos := tensor.Tensor{Shape: []int64{1, 1, 8, 8}, Data: make([]float32, 64)}
	for i := range protos.Data {
		protos.Data[i] = 1
	}

	f := Frame{OrigW: 64, OrigH: 64, InW: 32, InH: 32, Scale: 0.5}
	dets, err := m.Postprocess([]tensor.Tensor{pred, protos}, f, DefaultParams())
	if err != nil {
		t.Fatalf("Postprocess: %v", err)
	}
	if len(dets) != 2 {
		t.Fatalf("got %d detections, want 2", len(dets))
	}

	want := [][2]float32{{12, 12}, {12, 50}, {50, 50}, {50, 12}}
	if diff := cmp.Diff(want, dets[0].Segment, approx); diff != "" {
		t.Errorf("segment mismatch (-want +got):\n%s", diff)
	}
	if got := shoelace(dets[0].Segment); got != 38*38 {
		t.Errorf("segment area = %v, want %v", got, 38*38)
	}
	if dets[1].Segment == nil || len(dets[1].Segment) != 0 {
		t.Errorf("empty mask segment = %v, want an empty non-nil slice", dets[1].Segment)
	}
}

func TestMaskMatchesFullUpsample(t *testing.T) {
	// The windowed mask must equal a straightforward full-image upsample
	// of the cropped logits, for boxes at odd positions and sizes.
	const mh, mw, nm, in = 16, 16, 3, 64
	protos := tensor.Tensor{Shape: []int64{1, nm, mh, mw}, Data: make([]float32, nm*mh*mw)}
	for i := range protos.Data {
		protos.Data[i] = float32(math.Sin(float64(i)*0.37) + 0.2)
	}
	coef := []float32{0.7, -0.4, 0.5}
	boxes := [][4]float32{{3.3, 5.1, 40.7, 33.2}, {0, 0, 64, 64}, {-10, 50, 20, 90}, {31, 31, 33, 33}}
	for _, box := range boxes {
		got := maskInBox(protos, coef, box, in, in)
		pc := cropLogits(protos, coef, box, in, in)
		for y := 0; y < in; y++ {
			for x := 0; x < in; x++ {
				want := false
				if pc.logit != nil {
					ya, yb, ly := sourceIndex(y, float32(mh)/in, mh)
					xa, xb, lx := sourceIndex(x, float32(mw)/in, mw)
					v := (1-ly)*((1-lx)*pc.at(ya, xa)+lx*pc.at(ya, xb)) + ly*((1-lx)*pc.at(yb, xa)+lx*pc.at(yb, xb))
					want = v > 0
				}
				inside := x >= got.x0 && x < got.x0+got.w && y >= got.y0 && y < got.y0+got.h
				have := inside && got.pix[(y-got.y0)*got.w+x-got.x0]
				if have != want {
					t.Fatalf("box %v pixel (%d, %d) = %v, want %v", box, x, y, have, want)
				}
			}
		}
	}
}
