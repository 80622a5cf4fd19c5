package vision

import "math"

// Ultralytics classifies with torchvision transforms on a PIL image:
// Resize(size) (short side to size, bilinear), CenterCrop(size), ToTensor.
// torchvision resizes PIL images with Pillow's Image.resize(BILINEAR),
// which is a separable triangle filter whose support widens with the
// reduction factor (so it antialiases, unlike cv2.resize), computed in
// 22-bit fixed point with an 8-bit image between the horizontal and the
// vertical pass (libImaging/Resample.c). That is reproduced here, for the
// cropped window only: each output pixel depends on its own coordinates,
// so resizing everything and cropping afterwards gives the same values.

const pilPrecisionBits = 32 - 8 - 2

// ClassifyCHW fills dst, which must hold 3·size·size values, with img
// preprocessed for an Ultralytics classifier: the short side resized to
// size (the long side to int(size·long/short)), a centre crop of
// size×size, planar RGB, values v/255. It panics if dst has the wrong
// length, which is a caller's bug.
func ClassifyCHW(img *Image, size int, dst []float32) {
	classify(img, size, dst, &lut32)
}

// ClassifyCHW16 is ClassifyCHW with IEEE float16 values, given as bits.
func ClassifyCHW16(img *Image, size int, dst []uint16) {
	classify(img, size, dst, &lut16)
}

// ClassifyGeometry returns the size torchvision's Resize(size) gives img
// and the top-left corner of the centre crop within it.
func ClassifyGeometry(srcW, srcH, size int) (resizedW, resizedH, left, top int) {
	if srcW <= srcH {
		resizedW, resizedH = size, int(float64(size*srcH)/float64(srcW))
	} else {
		resizedW, resizedH = int(float64(size*srcW)/float64(srcH)), size
	}
	left = int(math.RoundToEven(float64(resizedW-size) / 2))
	top = int(math.RoundToEven(float64(resizedH-size) / 2))
	return resizedW, resizedH, left, top
}

func classify[T float32 | uint16](img *Image, size int, dst []T, lut *[256]T) {
	checkTensor("ClassifyCHW", len(dst), size, size)
	rw, rh, left, top := ClassifyGeometry(img.W, img.H, size)
	plane := size * size
	r, g, b := dst[:plane], dst[plane:2*plane], dst[2*plane:]
	emit := func(y int, row []uint8) {
		scatterRow(row, r[y*size:][:size], g[y*size:][:size], b[y*size:][:size], lut)
	}
	if rw == img.W && rh == img.H {
		for y := range size {
			emit(y, img.Pix[3*((top+y)*img.W+left):][:3*size])
		}
		return
	}
	pilResize(img, rw, rh, left, top, size, size, emit)
}

// pilCoeffs is Resample.c precompute_coeffs and normalize_coeffs_8bpc for
// the bilinear filter, for the n outputs starting at from of an
// inSize→outSize resize: each output reads count[i] inputs from start[i]
// with the fixed-point weights k[i*ksize:].
type pilCoeffs struct {
	ksize        int
	start, count []int
	k            []int32
}

func newPILCoeffs(inSize, outSize, from, n int) pilCoeffs {
	scale := float64(inSize) / float64(outSize)
	filterscale := math.Max(scale, 1)
	support := 1.0 * filterscale // the bilinear filter's support is 1
	ksize := int(math.Ceil(support))*2 + 1
	c := pilCoeffs{ksize: ksize, start: make([]int, n), count: make([]int, n), k: make([]int32, n*ksize)}
	w := make([]float64, ksize)
	ss := 1.0 / filterscale
	for i := range n {
		center := (float64(from+i) + 0.5) * scale
		xmin := max(int(center-support+0.5), 0)
		xmax := min(int(center+support+0.5), inSize) - xmin
		total := 0.0
		for x := range xmax {
			w[x] = pilBilinear((float64(x+xmin) - center + 0.5) * ss)
			total += w[x]
		}
		for x := range xmax {
			if total != 0 {
				w[x] /= total
			}
			c.k[i*ksize+x] = pilFixed(w[x])
		}
		c.start[i], c.count[i] = xmin, max(xmax, 0)
	}
	return c
}

func pilBilinear(x float64) float64 {
	x = math.Abs(x)
	if x < 1 {
		return 1 - x
	}
	return 0
}

// pilFixed converts a weight to 22-bit fixed point, rounding half away
// from zero as the C cast of ±0.5 + w·2^22 does.
func pilFixed(w float64) int32 {
	if w < 0 {
		return int32(-0.5 + w*(1<<pilPrecisionBits))
	}
	return int32(0.5 + w*(1<<pilPrecisionBits))
}

func pilClip8(v int32) uint8 {
	return clamp8(v >> pilPrecisionBits)
}

// pilResize resizes img to rw×rh as Pillow does and emits the rows of the
// w×h window at (left, top) of the result.
func pilResize(img *Image, rw, rh, left, top, w, h int, emit func(y int, row []uint8)) {
	xc := newPILCoeffs(img.W, rw, left, w)
	yc := newPILCoeffs(img.H, rh, top, h)
	first := yc.start[0]
	last := first
	for i := range h {
		last = max(last, yc.start[i]+yc.count[i])
	}
	// Horizontal pass over the source rows the window needs, to 8 bits.
	horiz := make([]uint8, (last-first)*3*w)
	needH := rw != img.W
	for y := first; y < last; y++ {
		src := img.Pix[3*y*img.W:][:3*img.W]
		out := horiz[(y-first)*3*w:][:3*w]
		if needH {
			pilHorizontal(src, out, xc)
		} else {
			copy(out, src[3*left:][:3*w])
		}
	}
	row := make([]uint8, 3*w)
	needV := rh != img.H
	for i := range h {
		if !needV {
			emit(i, horiz[(top+i-first)*3*w:][:3*w])
			continue
		}
		pilVertical(horiz, first, 3*w, row, yc, i)
		emit(i, row)
	}
}

func pilHorizontal(src, out []uint8, c pilCoeffs) {
	for i := range c.start {
		k := c.k[i*c.ksize:][:c.count[i]]
		p := src[3*c.start[i]:]
		r, g, b := int32(1<<(pilPrecisionBits-1)), int32(1<<(pilPrecisionBits-1)), int32(1<<(pilPrecisionBits-1))
		for x, kx := range k {
			q := p[3*x:][:3]
			r += int32(q[0]) * kx
			g += int32(q[1]) * kx
			b += int32(q[2]) * kx
		}
		out[3*i], out[3*i+1], out[3*i+2] = pilClip8(r), pilClip8(g), pilClip8(b)
	}
}

func pilVertical(rows []uint8, first, stride int, out []uint8, c pilCoeffs, i int) {
	k := c.k[i*c.ksize:][:c.count[i]]
	base := (c.start[i] - first) * stride
	for x := range out {
		acc := int32(1 << (pilPrecisionBits - 1))
		for y, ky := range k {
			acc += int32(rows[base+y*stride+x]) * ky
		}
		out[x] = pilClip8(acc)
	}
}
