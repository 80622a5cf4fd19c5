package vision

import "image"

// Lossy WebP colour conversion as libwebp does it for libvips (RGB output
// with the default fancy upsampling). VP8 stores limited-range BT.601
// ("studio swing") YUV, so image/color's full-range JFIF conversion, which
// the image.YCbCr that x/image/webp returns would imply, shifts contrast.

// libwebp src/dsp/yuv.h: 14-bit fixed point with a final shift of 6.
const (
	webpFix2  = 6
	webpMask2 = (256 << webpFix2) - 1
)

func webpMultHi(v, coeff int32) int32 { return (v * coeff) >> 8 }

func webpClip8(v int32) uint8 {
	if v&^webpMask2 == 0 {
		return uint8(v >> webpFix2)
	}
	if v < 0 {
		return 0
	}
	return 255
}

var webpY, webpVR, webpUG, webpVG, webpUB = func() (y, vr, ug, vg, ub [256]int32) {
	for i := range 256 {
		v := int32(i)
		y[i] = webpMultHi(v, 19077)
		vr[i] = webpMultHi(v, 26149) - 14234
		ug[i] = webpMultHi(v, 6419)
		vg[i] = webpMultHi(v, 13320) - 8708
		ub[i] = webpMultHi(v, 33050) - 17685
	}
	return
}()

func webpYUVRow(out, ys, us, vs []uint8) {
	out = out[:3*len(ys)]
	us = us[:len(ys)]
	vs = vs[:len(ys)]
	for x, yv := range ys {
		y := webpY[yv]
		u, v := us[x], vs[x]
		out[3*x] = webpClip8(y + webpVR[v])
		out[3*x+1] = webpClip8(y - webpUG[u] - webpVG[v])
		out[3*x+2] = webpClip8(y + webpUB[u])
	}
}

// convertWebPYUV converts a 4:2:0 VP8 frame. Output rows 2k-1 and 2k are
// the upper and lower rows of a pair upsampled between chroma rows k-1 and
// k. The first and last rows use their own chroma row on both sides, as
// io_dec.c EmitFancyRGB arranges.
func convertWebPYUV(dst *Image, m *image.YCbCr) {
	w, h := dst.W, dst.H
	uvh := (h + 1) / 2
	uvw := (w + 1) / 2
	u := make([]uint8, w)
	v := make([]uint8, w)
	for y := range h {
		top, cur, lower := y/2, min((y+1)/2, uvh-1), false
		if y%2 == 0 {
			top, cur, lower = max(y/2-1, 0), y/2, true
		}
		webpUpsampleRow(m.Cb[top*m.CStride:][:uvw], m.Cb[cur*m.CStride:][:uvw], lower, u)
		webpUpsampleRow(m.Cr[top*m.CStride:][:uvw], m.Cr[cur*m.CStride:][:uvw], lower, v)
		webpYUVRow(dst.Pix[3*y*w:], m.Y[y*m.YStride:][:w], u, v)
	}
}

// webpUpsampleRow is one half of libwebp's UpsampleRgbLinePair
// (src/dsp/upsampling.c): the 9-3-3-1 filter computed through the two
// diagonal averages, with the same rounding. lower selects the output row
// nearer cur rather than the one nearer top.
func webpUpsampleRow(top, cur []uint8, lower bool, out []uint8) {
	n := len(out)
	tl, l := int32(top[0]), int32(cur[0])
	if lower {
		out[0] = uint8((3*l + tl + 2) >> 2)
	} else {
		out[0] = uint8((3*tl + l + 2) >> 2)
	}
	lastPair := (n - 1) >> 1
	for x := 1; x <= lastPair; x++ {
		t, c := int32(top[x]), int32(cur[x])
		avg := tl + t + l + c + 8
		diag12 := (avg + 2*(t+l)) >> 3
		diag03 := (avg + 2*(tl+c)) >> 3
		if lower {
			out[2*x-1] = uint8((diag03 + l) >> 1)
			out[2*x] = uint8((diag12 + c) >> 1)
		} else {
			out[2*x-1] = uint8((diag12 + tl) >> 1)
			out[2*x] = uint8((diag03 + t) >> 1)
		}
		tl, l = t, c
	}
	if n&1 == 0 {
		if lower {
			out[n-1] = uint8((3*l + tl + 2) >> 2)
		} else {
			out[n-1] = uint8((3*tl + l + 2) >> 2)
		}
	}
}
