package vision

import (
	"math"
	"runtime"
	"sync"
)

// Bilinear resize in float64 with half-pixel centres, rounded half up to
// uint8. This is the arithmetic of the reference pipeline that the expected
// predictions of our fixture models come from, and it is exact bilinear
// interpolation. OpenCV's INTER_LINEAR (ResizeLinear) rounds its weights to
// 11 bits instead, so 4 to 7 percent of its output bytes differ by one or
// two levels; int8-quantized models can move a confidence by 0.2 on such
// differences, so the letterbox uses this version.
//
// For output x: f = (x+0.5)*src/dst - 0.5, s = floor(f), weight w = f - s.
// Positions left of the first source pixel or right of the last take that
// edge pixel alone. The value is (1-wy)*((1-wx)*p00 + wx*p01) +
// wy*((1-wx)*p10 + wx*p11), evaluated in that order.

// floatAxis holds the source indexes and weights of one axis.
type floatAxis struct {
	i0, i1 []int32
	w      []float64
}

func newFloatAxis(src, dst int) floatAxis {
	a := floatAxis{i0: make([]int32, dst), i1: make([]int32, dst), w: make([]float64, dst)}
	scale := float64(src) / float64(dst)
	for d := range dst {
		f := float64(float64(d)+0.5)*scale - 0.5
		s := math.Floor(f)
		w := f - s
		i0 := int(s)
		if f < 0 {
			i0, w = 0, 0
		}
		i1 := min(i0+1, src-1)
		if i0 >= src-1 {
			i0, i1, w = src-1, src-1, 0
		}
		a.i0[d], a.i1[d], a.w[d] = int32(i0), int32(i1), w
	}
	return a
}

// floatResizer streams the rows of a float bilinear resize of an RGB image.
type floatResizer struct {
	src    *Image
	dstH   int
	xs, ys floatAxis
	cache  rowCache[float64]
	out    []uint8
}

func newFloatResizer(src *Image, dstW, dstH int) *floatResizer {
	r := &floatResizer{
		src:  src,
		dstH: dstH,
		xs:   newFloatAxis(src.W, dstW),
		ys:   newFloatAxis(src.H, dstH),
		out:  make([]uint8, 3*dstW),
	}
	r.cache = newRowCache(3*dstW, r.horizontal)
	return r
}

// horizontal interpolates source row y along x into out.
func (r *floatResizer) horizontal(y int, out []float64) {
	src := r.src.Pix[3*y*r.src.W:][:3*r.src.W]
	for d := range r.xs.w {
		p0 := src[3*r.xs.i0[d]:][:3]
		p1 := src[3*r.xs.i1[d]:][:3]
		w := r.xs.w[d]
		o := out[3*d:][:3]
		// The float64 conversions keep each product rounded on its own, so
		// the compiler cannot fuse a multiply and an add.
		o[0] = float64((1-w)*float64(p0[0])) + float64(w*float64(p1[0]))
		o[1] = float64((1-w)*float64(p0[1])) + float64(w*float64(p1[1]))
		o[2] = float64((1-w)*float64(p0[2])) + float64(w*float64(p1[2]))
	}
}

// each calls emit with every output row in order; the row slice is reused.
func (r *floatResizer) each(emit func(y int, row []uint8)) {
	r.rowsIn(0, r.dstH, emit)
}

// rowsIn calls emit with output rows y0 to y1-1 in order.
func (r *floatResizer) rowsIn(y0, y1 int, emit func(y int, row []uint8)) {
	for dy := y0; dy < y1; dy++ {
		h0, k := r.cache.row(int(r.ys.i0[dy]), -1)
		h1, _ := r.cache.row(int(r.ys.i1[dy]), k)
		w := r.ys.w[dy]
		for x := range r.out {
			v := float64((1-w)*h0[x]) + float64(w*h1[x])
			r.out[x] = uint8(min(255, max(0, math.Floor(v+0.5))))
		}
		emit(dy, r.out)
	}
}

// ResizeBilinear returns img resized to w×h by exact bilinear
// interpolation with half-pixel centres, rounded half up.
func ResizeBilinear(img *Image, w, h int) *Image {
	out := NewImage(w, h)
	resizeRowsBilinear(img, w, h, func(y int, row []uint8) {
		copy(out.Pix[3*y*w:], row)
	})
	return out
}

// resizeRowsBilinear calls emit with each row of img resized to w×h, or
// with img's own rows when the size already matches.
func resizeRowsBilinear(img *Image, w, h int, emit func(y int, row []uint8)) {
	if img.W == w && img.H == h {
		for y := range h {
			emit(y, img.Pix[3*y*w:][:3*w])
		}
		return
	}
	newFloatResizer(img, w, h).each(emit)
}

// minRowsPerWorker keeps small images on one goroutine, where starting
// another costs more than it saves.
const minRowsPerWorker = 64

// resizeRowsBilinearParallel is resizeRowsBilinear with the output rows
// split between up to GOMAXPROCS goroutines, so a single request uses the
// cores that inference leaves idle before it starts. emit must be safe for
// concurrent calls on different rows; rows arrive in order within a worker
// only.
func resizeRowsBilinearParallel(img *Image, w, h int, emit func(y int, row []uint8)) {
	workers := min(runtime.GOMAXPROCS(0), h/minRowsPerWorker, 4)
	if workers <= 1 || (img.W == w && img.H == h) {
		resizeRowsBilinear(img, w, h, emit)
		return
	}
	var wg sync.WaitGroup
	for k := range workers {
		y0, y1 := h*k/workers, h*(k+1)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			newFloatResizer(img, w, h).rowsIn(y0, y1, emit)
		}()
	}
	wg.Wait()
}
