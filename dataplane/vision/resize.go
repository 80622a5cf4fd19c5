package vision

import "math"

// OpenCV's cv::resize with INTER_LINEAR on 8-bit images (imgproc
// resize.cpp), reproduced bit for bit:
//
//   - Coordinates use half-pixel centres: f = float32((d+0.5)*scale - 0.5)
//     with scale = 1/(dst/src) in float64, s = floor(f), weights
//     rint((1-(f-s))*2048) and rint((f-s)*2048) (INTER_RESIZE_COEF_BITS=11).
//     Columns left of the first or right of the last source pixel take
//     that pixel with weight 2048; rows are clamped but keep their weights.
//   - The horizontal pass keeps int32 sums, S = p0*a0 + p1*a1.
//   - The vertical pass is not (S0*b0 + S1*b1 + 2^21) >> 22, the generic
//     fixed-point cast, but the 16-bit form that OpenCV's SIMD code uses
//     and that its 8-bit specialisation of VResizeLinear repeats for the
//     scalar tail: ((S0>>4)*b0>>16 + (S1>>4)*b1>>16 + 2) >> 2.
//
// An exact 2× reduction, which OpenCV routes to INTER_AREA, gives the same
// result through these formulas, so it needs no case of its own.

const (
	resizeCoefBits  = 11
	resizeCoefScale = 1 << resizeCoefBits
)

// linearAxis holds the source indexes and fixed-point weights of one axis.
type linearAxis struct {
	i0, i1 []int32
	w0, w1 []int32
}

// newLinearAxis builds the table for src→dst samples. clampWeights is the
// horizontal rule (edge columns get weight 2048 on the edge pixel); the
// vertical axis only clamps the row indexes.
func newLinearAxis(src, dst int, clampWeights bool) linearAxis {
	a := linearAxis{
		i0: make([]int32, dst), i1: make([]int32, dst),
		w0: make([]int32, dst), w1: make([]int32, dst),
	}
	scale := 1 / (float64(dst) / float64(src))
	for d := range dst {
		// The explicit conversion keeps the compiler from fusing the
		// multiply and subtract, which OpenCV's x86 build does not do.
		t := float64((float64(d) + 0.5) * scale)
		f := float32(t - 0.5)
		s := int(math.Floor(float64(f)))
		f -= float32(s)
		if clampWeights {
			if s < 0 {
				f, s = 0, 0
			}
			if s >= src-1 {
				f, s = 0, src-1
			}
		}
		a.i0[d] = int32(min(max(s, 0), src-1))
		a.i1[d] = int32(min(max(s+1, 0), src-1))
		a.w0[d] = int32(math.RoundToEven(float64((1 - f) * resizeCoefScale)))
		a.w1[d] = int32(math.RoundToEven(float64(f * resizeCoefScale)))
	}
	return a
}

// linearResizer streams the rows of an INTER_LINEAR resize of an RGB image.
type linearResizer struct {
	src        *Image
	dstW, dstH int
	xs, ys     linearAxis
	taps       []tap // per output column
	cache      rowCache[int32]
	out        []uint8
}

func newLinearResizer(src *Image, dstW, dstH int) *linearResizer {
	r := &linearResizer{
		src: src, dstW: dstW, dstH: dstH,
		xs:  newLinearAxis(src.W, dstW, true),
		ys:  newLinearAxis(src.H, dstH, false),
		out: make([]uint8, 3*dstW),
	}
	r.cache = newRowCache(3*dstW, r.horizontal)
	r.taps = make([]tap, dstW)
	for d := range r.taps {
		r.taps[d] = tap{3 * r.xs.i0[d], 3 * r.xs.i1[d], r.xs.w0[d], r.xs.w1[d]}
	}
	return r
}

// tap is one output column of the horizontal pass: the byte offsets of its
// two source pixels and their weights.
type tap struct{ p0, p1, a0, a1 int32 }

// horizontal resizes source row y into out.
func (r *linearResizer) horizontal(y int, out []int32) {
	src := r.src.Pix[3*y*r.src.W:][:3*r.src.W]
	out = out[:3*len(r.taps)]
	for d, t := range r.taps {
		p0 := src[t.p0 : t.p0+3 : t.p0+3]
		p1 := src[t.p1 : t.p1+3 : t.p1+3]
		o := out[3*d : 3*d+3 : 3*d+3]
		o[0] = int32(p0[0])*t.a0 + int32(p1[0])*t.a1
		o[1] = int32(p0[1])*t.a0 + int32(p1[1])*t.a1
		o[2] = int32(p0[2])*t.a0 + int32(p1[2])*t.a1
	}
}

// each calls emit with every output row in order. The row slice is reused
// between calls.
func (r *linearResizer) each(emit func(y int, row []uint8)) {
	for dy := range r.dstH {
		s0, k := r.cache.row(int(r.ys.i0[dy]), -1)
		s1, _ := r.cache.row(int(r.ys.i1[dy]), k)
		verticalLinear(s0, s1, r.ys.w0[dy], r.ys.w1[dy], r.out)
		emit(dy, r.out)
	}
}

func verticalLinear(s0, s1 []int32, b0, b1 int32, out []uint8) {
	s0 = s0[:len(out)]
	s1 = s1[:len(out)]
	for x := range out {
		// _mm_mulhi_epi16 on the sums packed to int16 after >>4.
		v := (s0[x]>>4)*b0>>16 + (s1[x]>>4)*b1>>16
		out[x] = uint8((v + 2) >> 2)
	}
}

// resizeRows calls emit with each row of img resized to w×h by OpenCV's
// INTER_LINEAR, or with img's own rows when the size already matches (the
// reference skips cv2.resize then).
func resizeRows(img *Image, w, h int, emit func(y int, row []uint8)) {
	if img.W == w && img.H == h {
		for y := range h {
			emit(y, img.Pix[3*y*w:][:3*w])
		}
		return
	}
	newLinearResizer(img, w, h).each(emit)
}

// ResizeLinear returns img resized to w×h exactly as OpenCV's cv2.resize
// with INTER_LINEAR does on an 8-bit 3-channel image.
func ResizeLinear(img *Image, w, h int) *Image {
	out := NewImage(w, h)
	resizeRows(img, w, h, func(y int, row []uint8) {
		copy(out.Pix[3*y*w:], row)
	})
	return out
}
