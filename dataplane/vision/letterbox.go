package vision

import (
	"fmt"
	"math"
)

// PadValue is the grey that fills the letterbox border, as Ultralytics uses.
const PadValue = 114

// Letterbox is the geometry of an Ultralytics letterbox: the source is
// scaled by Scale to NewW×NewH and padded by Left, Top, Right and Bottom to
// the model input size. A box maps back to the source as
// ((x-Left)/Scale, (y-Top)/Scale).
type Letterbox struct {
	Scale                    float64
	NewW, NewH               int
	Left, Top, Right, Bottom int
}

// ComputeLetterbox returns the geometry of ultralytics.data.augment.LetterBox
// (auto=False, scaleup=True, center=True) for a srcW×srcH image and a
// dstW×dstH input:
//
//	r = min(dstH/srcH, dstW/srcW)
//	NewW, NewH = round(srcW·r), round(srcH·r)   (half to even, as Python)
//	Left, Right = round(dw/2 - 0.1), round(dw/2 + 0.1) with dw = dstW-NewW
//
// and the same for Top and Bottom. NewW and NewH are at least 1, where
// Ultralytics would fail on an extreme aspect ratio. Non-positive sizes
// give the zero Letterbox.
func ComputeLetterbox(srcW, srcH, dstW, dstH int) Letterbox {
	if srcW <= 0 || srcH <= 0 || dstW <= 0 || dstH <= 0 {
		return Letterbox{}
	}
	r := math.Min(float64(dstH)/float64(srcH), float64(dstW)/float64(srcW))
	newW := max(1, int(math.RoundToEven(float64(srcW)*r)))
	newH := max(1, int(math.RoundToEven(float64(srcH)*r)))
	dw := float64(dstW-newW) / 2
	dh := float64(dstH-newH) / 2
	return Letterbox{
		Scale:  r,
		NewW:   newW,
		NewH:   newH,
		Left:   int(math.RoundToEven(dw - 0.1)),
		Right:  int(math.RoundToEven(dw + 0.1)),
		Top:    int(math.RoundToEven(dh - 0.1)),
		Bottom: int(math.RoundToEven(dh + 0.1)),
	}
}

// lut32 and lut16 map a byte to the model input value v/255: float32
// division as torch does it, and that value rounded to float16.
var lut32, lut16 = func() (f [256]float32, h [256]uint16) {
	for i := range 256 {
		f[i] = float32(i) / 255
		h[i] = Float32ToFloat16(f[i])
	}
	return
}()

// LetterboxCHW fills dst, which must hold 3·dstW·dstH values, with img
// letterboxed to dstW×dstH: planar R, G, B planes (CHW), values v/255, the
// border PadValue/255. The resize is exact bilinear interpolation with
// half-pixel centres (ResizeBilinear), skipped when img is already
// NewW×NewH. It panics if dst has the
// wrong length, which is a caller's bug.
func LetterboxCHW(img *Image, dstW, dstH int, dst []float32) Letterbox {
	return letterbox(img, dstW, dstH, dst, &lut32)
}

// LetterboxCHW16 is LetterboxCHW with IEEE float16 values, given as bits,
// for models whose input is float16.
func LetterboxCHW16(img *Image, dstW, dstH int, dst []uint16) Letterbox {
	return letterbox(img, dstW, dstH, dst, &lut16)
}

func letterbox[T float32 | uint16](img *Image, dstW, dstH int, dst []T, lut *[256]T) Letterbox {
	checkTensor("LetterboxCHW", len(dst), dstW, dstH)
	lb := ComputeLetterbox(img.W, img.H, dstW, dstH)
	plane := dstW * dstH
	r, g, b := dst[:plane], dst[plane:2*plane], dst[2*plane:3*plane]
	pad := lut[PadValue]
	fillPadding(r, dstW, dstH, lb, pad)
	fillPadding(g, dstW, dstH, lb, pad)
	fillPadding(b, dstW, dstH, lb, pad)
	resizeRowsBilinearParallel(img, lb.NewW, lb.NewH, func(y int, row []uint8) {
		off := (lb.Top+y)*dstW + lb.Left
		scatterRow(row, r[off:off+lb.NewW], g[off:off+lb.NewW], b[off:off+lb.NewW], lut)
	})
	return lb
}

// scatterRow splits packed RGB bytes into three planes through lut.
func scatterRow[T float32 | uint16](row []uint8, r, g, b []T, lut *[256]T) {
	row = row[:3*len(r)]
	g, b = g[:len(r)], b[:len(r)]
	for x := range r {
		p := row[3*x:][:3]
		r[x], g[x], b[x] = lut[p[0]], lut[p[1]], lut[p[2]]
	}
}

// fillPadding writes the pad value to the border of one plane.
func fillPadding[T float32 | uint16](p []T, w, h int, lb Letterbox, v T) {
	fill(p[:lb.Top*w], v)
	fill(p[(lb.Top+lb.NewH)*w:], v)
	for y := lb.Top; y < lb.Top+lb.NewH; y++ {
		row := p[y*w : (y+1)*w]
		fill(row[:lb.Left], v)
		fill(row[lb.Left+lb.NewW:], v)
	}
}

func fill[T float32 | uint16](s []T, v T) {
	for i := range s {
		s[i] = v
	}
}

func checkTensor(fn string, n, w, h int) {
	if w <= 0 || h <= 0 || n != 3*w*h {
		panic(fmt.Sprintf("BUG: vision.%s: dst has %d values, want 3*%d*%d", fn, n, w, h))
	}
}
