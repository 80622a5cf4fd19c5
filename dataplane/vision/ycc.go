package vision

import "image"

// JPEG colour conversion as libjpeg(-turbo) does it, which is what libvips
// decodes with: chroma is upsampled with libjpeg's "fancy" triangle filter
// (jdsample.c, the default do_fancy_upsampling) and converted with the
// 16-bit fixed-point tables of jdcolor.c. image/color.YCbCrToRGB rounds
// differently and the image.YCbCr accessors replicate chroma, so neither is
// used here.

const (
	yccScaleBits = 16
	yccHalf      = 1 << (yccScaleBits - 1)
)

// Tables of jdcolor.c build_ycc_rgb_table: FIX(1.40200) = 91881,
// FIX(1.77200) = 116130, FIX(0.71414) = 46802, FIX(0.34414) = 22554.
var crToR, cbToB, crToG, cbToG = func() (r, b, gr, gb [256]int32) {
	for i := range 256 {
		x := int32(i) - 128
		r[i] = (91881*x + yccHalf) >> yccScaleBits
		b[i] = (116130*x + yccHalf) >> yccScaleBits
		gr[i] = -46802 * x
		gb[i] = -22554*x + yccHalf
	}
	return
}()

func clamp8(v int32) uint8 {
	if uint32(v) <= 255 {
		return uint8(v)
	}
	if v < 0 {
		return 0
	}
	return 255
}

// yccRow converts one row of full-resolution Y, Cb and Cr to packed RGB.
func yccRow(out, ys, cb, cr []uint8) {
	out = out[:3*len(ys)]
	cb = cb[:len(ys)]
	cr = cr[:len(ys)]
	for x, yv := range ys {
		y := int32(yv)
		b, r := cb[x], cr[x]
		out[3*x] = clamp8(y + crToR[r])
		out[3*x+1] = clamp8(y + (cbToG[b]+crToG[r])>>yccScaleBits)
		out[3*x+2] = clamp8(y + cbToB[b])
	}
}

func convertYCbCr(dst *Image, m *image.YCbCr, f Format) {
	switch {
	case m.Rect.Min != (image.Point{}):
		convertYCbCrNearest(dst, m)
	case f == FormatWebP && m.SubsampleRatio == image.YCbCrSubsampleRatio420:
		convertWebPYUV(dst, m)
	default:
		convertJPEGYCbCr(dst, m)
	}
}

// convertJPEGYCbCr upsamples each chroma row to full width and converts.
// Only the real chroma samples, ceil(W·h/hmax) by ceil(H·v/vmax), are read:
// image/jpeg's planes also hold MCU padding, which libjpeg never uses for
// upsampling, replicating the last real sample instead.
func convertJPEGYCbCr(dst *Image, m *image.YCbCr) {
	w, h := dst.W, dst.H
	up := newChromaUpsampler(m.SubsampleRatio, w, h, m.CStride)
	cb := make([]uint8, w+1)
	cr := make([]uint8, w+1)
	for y := range h {
		up.row(m.Cb, y, cb)
		up.row(m.Cr, y, cr)
		yccRow(dst.Pix[3*y*w:], m.Y[y*m.YStride:][:w], cb, cr)
	}
}

// chromaUpsampler expands one chroma plane row by row, as jdsample.c does.
type chromaUpsampler struct {
	ratio  image.YCbCrSubsampleRatio
	w, h   int
	cw, ch int // real chroma samples per row and per column
	stride int
	fancy  bool    // libjpeg skips the triangle filter when cw <= 2
	colsum []int32 // h2v2 vertical sums, one per chroma column
}

func newChromaUpsampler(ratio image.YCbCrSubsampleRatio, w, h, stride int) *chromaUpsampler {
	u := &chromaUpsampler{ratio: ratio, w: w, h: h, cw: w, ch: h, stride: stride}
	switch ratio {
	case image.YCbCrSubsampleRatio422:
		u.cw = (w + 1) / 2
	case image.YCbCrSubsampleRatio420:
		u.cw, u.ch = (w+1)/2, (h+1)/2
	case image.YCbCrSubsampleRatio440:
		u.ch = (h + 1) / 2
	case image.YCbCrSubsampleRatio411:
		u.cw = (w + 3) / 4
	case image.YCbCrSubsampleRatio410:
		u.cw, u.ch = (w+3)/4, (h+1)/2
	}
	u.fancy = u.cw > 2
	u.colsum = make([]int32, u.cw)
	return u
}

// row writes the chroma of output row y into out[:w]. out has room for
// w+1 samples so that an odd width needs no special case.
func (u *chromaUpsampler) row(plane []uint8, y int, out []uint8) {
	switch u.ratio {
	case image.YCbCrSubsampleRatio444:
		copy(out[:u.w], plane[y*u.stride:])
	case image.YCbCrSubsampleRatio422:
		u.h2v1(plane[y*u.stride:][:u.cw], out)
	case image.YCbCrSubsampleRatio420:
		u.h2v2(plane, y, out)
	case image.YCbCrSubsampleRatio440:
		u.h1v2(plane, y, out)
	default:
		// 4:1:1 and 4:1:0: libjpeg's int_upsample replicates samples.
		vs := 1
		if u.ratio == image.YCbCrSubsampleRatio410 {
			vs = 2
		}
		src := plane[(y/vs)*u.stride:][:u.cw]
		for x := range u.w {
			out[x] = src[x/4]
		}
	}
}

// h2v1 is jdsample.c h2v1_fancy_upsample: each output sample is 3/4 of the
// nearer input sample and 1/4 of the further one, with biases 1 and 2 so
// that rounding alternates.
func (u *chromaUpsampler) h2v1(src []uint8, out []uint8) {
	if !u.fancy {
		for j, v := range src {
			out[2*j], out[2*j+1] = v, v
		}
		return
	}
	last := len(src) - 1
	for j, v := range src {
		t := 3 * int32(v)
		out[2*j] = uint8((t + int32(src[max(j-1, 0)]) + 1) >> 2)
		out[2*j+1] = uint8((t + int32(src[min(j+1, last)]) + 2) >> 2)
	}
}

// h2v2 is jdsample.c h2v2_fancy_upsample: a vertical 3:1 sum with the
// nearer neighbour row (the first and last rows are their own neighbours),
// then a horizontal 3:1 pass with biases 8 and 7 and a shift of 4.
func (u *chromaUpsampler) h2v2(plane []uint8, y int, out []uint8) {
	cy := y / 2
	if !u.fancy {
		src := plane[cy*u.stride:][:u.cw]
		for j, v := range src {
			out[2*j], out[2*j+1] = v, v
		}
		return
	}
	other := min(cy+1, u.ch-1)
	if y%2 == 0 {
		other = max(cy-1, 0)
	}
	near := plane[cy*u.stride:][:u.cw]
	far := plane[other*u.stride:][:u.cw]
	cs := u.colsum[:u.cw]
	for j := range cs {
		cs[j] = 3*int32(near[j]) + int32(far[j])
	}
	last := len(cs) - 1
	for j, v := range cs {
		t := 3 * v
		out[2*j] = uint8((t + cs[max(j-1, 0)] + 8) >> 4)
		out[2*j+1] = uint8((t + cs[min(j+1, last)] + 7) >> 4)
	}
}

// h1v2 is jdsample.c h1v2_fancy_upsample, used for 4:4:0: a vertical 3:1
// blend with bias 1 towards the row above and 2 towards the row below.
func (u *chromaUpsampler) h1v2(plane []uint8, y int, out []uint8) {
	cy := y / 2
	other, bias := min(cy+1, u.ch-1), int32(2)
	if y%2 == 0 {
		other, bias = max(cy-1, 0), 1
	}
	near := plane[cy*u.stride:][:u.w]
	far := plane[other*u.stride:][:u.w]
	for x := range near {
		out[x] = uint8((3*int32(near[x]) + int32(far[x]) + bias) >> 2)
	}
}

// convertYCbCrNearest handles YCbCr images whose rectangle does not start
// at the origin, which no decoder here returns, with replicated chroma.
func convertYCbCrNearest(dst *Image, m *image.YCbCr) {
	b := m.Rect
	for y := range dst.H {
		out := dst.Pix[3*y*dst.W:][:3*dst.W]
		for x := range dst.W {
			yi := m.YOffset(b.Min.X+x, b.Min.Y+y)
			ci := m.COffset(b.Min.X+x, b.Min.Y+y)
			yy, cb, cr := int32(m.Y[yi]), m.Cb[ci], m.Cr[ci]
			out[3*x] = clamp8(yy + crToR[cr])
			out[3*x+1] = clamp8(yy + (cbToG[cb]+crToG[cr])>>yccScaleBits)
			out[3*x+2] = clamp8(yy + cbToB[cb])
		}
	}
}
