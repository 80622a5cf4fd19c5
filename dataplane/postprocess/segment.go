package postprocess

import (
	"math"

	"github.com/yoloplane/yoloplane/dataplane/tensor"
)

// addSegments computes each detection's mask and outline the way
// Ultralytics' process_mask and masks2segments do with retina_masks off:
// mask logits are the coefficients times the prototypes, zeroed outside the
// box at prototype resolution, bilinearly upsampled to the input size
// (align_corners false), thresholded at logit > 0 (sigmoid > 0.5), and the
// largest external contour of that input-size mask is mapped to the
// original image. Only the part of the input image that the cropped
// prototypes can reach is computed.
func (m *Model) addSegments(dets []Detection, kept []candidate, extra rows, proto tensor.Tensor, f Frame) {
	nm := int(proto.Shape[1])
	coef := make([]float32, nm)
	for i, c := range kept {
		for j := range coef {
			coef[j] = extra.at(c.index, j)
		}
		mask := maskInBox(proto, coef, c.box, f.InW, f.InH)
		outline := mask.largestExternalContour()
		seg := make([][2]float32, len(outline))
		for k, p := range outline {
			seg[k] = [2]float32{f.X(float32(p[0])), f.Y(float32(p[1]))}
		}
		dets[i].Segment = seg
	}
}

// protoCrop is the region of the prototype grid inside a box, with the
// mask logits computed there.
type protoCrop struct {
	c0, c1, r0, r1 int // inclusive column and row bounds; empty when c0 > c1
	mw             int
	logit          []float32 // (r1-r0+1) x (c1-c0+1)
}

// at returns the cropped logit at prototype pixel (r, c): 0 outside the
// box, as crop_mask multiplies by zero there.
func (p *protoCrop) at(r, c int) float32 {
	if r < p.r0 || r > p.r1 || c < p.c0 || c > p.c1 {
		return 0
	}
	return p.logit[(r-p.r0)*(p.c1-p.c0+1)+c-p.c0]
}

// cropLogits computes coef · protos over the prototype pixels that
// crop_mask keeps: column c with x1 <= c < x2 and row r with y1 <= r < y2,
// the box scaled to the prototype grid.
func cropLogits(proto tensor.Tensor, coef []float32, box [4]float32, inW, inH int) protoCrop {
	mh, mw := int(proto.Shape[2]), int(proto.Shape[3])
	rx, ry := float32(mw)/float32(inW), float32(mh)/float32(inH)
	pc := protoCrop{
		c0: max(ceilInt(box[0]*rx), 0), c1: min(ceilInt(box[2]*rx)-1, mw-1),
		r0: max(ceilInt(box[1]*ry), 0), r1: min(ceilInt(box[3]*ry)-1, mh-1),
		mw: mw,
	}
	if pc.c0 > pc.c1 || pc.r0 > pc.r1 {
		return pc
	}
	cw := pc.c1 - pc.c0 + 1
	pc.logit = make([]float32, cw*(pc.r1-pc.r0+1))
	plane := mh * mw
	for j, k := range coef {
		for r := pc.r0; r <= pc.r1; r++ {
			src := proto.Data[j*plane+r*mw+pc.c0 : j*plane+r*mw+pc.c1+1]
			dst := pc.logit[(r-pc.r0)*cw : (r-pc.r0+1)*cw]
			for c, v := range src {
				dst[c] += k * v
			}
		}
	}
	return pc
}

// ceilInt returns the smallest integer >= v, saturating far outside the
// grid so that huge boxes cannot overflow.
func ceilInt(v float32) int {
	c := math.Ceil(float64(v))
	if c < -1e6 {
		return -1e6
	}
	if c > 1e6 {
		return 1e6
	}
	return int(c)
}

// maskInBox upsamples the cropped logits to the input size and thresholds
// them. Pixels whose bilinear neighbours all lie outside the crop are
// exactly 0 and stay background, so only a window around the crop is
// computed.
func maskInBox(proto tensor.Tensor, coef []float32, box [4]float32, inW, inH int) binaryMask {
	mh, mw := int(proto.Shape[2]), int(proto.Shape[3])
	pc := cropLogits(proto, coef, box, inW, inH)
	if pc.logit == nil {
		return binaryMask{}
	}
	sx, sy := float32(mw)/float32(inW), float32(mh)/float32(inH)
	x0, x1 := upsampleWindow(pc.c0, pc.c1, inW, sx)
	y0, y1 := upsampleWindow(pc.r0, pc.r1, inH, sy)
	mask := binaryMask{x0: x0, y0: y0, w: x1 - x0 + 1, h: y1 - y0 + 1}
	mask.pix = make([]bool, mask.w*mask.h)
	for y := y0; y <= y1; y++ {
		ya, yb, ly := sourceIndex(y, sy, mh)
		for x := x0; x <= x1; x++ {
			xa, xb, lx := sourceIndex(x, sx, mw)
			top := (1-lx)*pc.at(ya, xa) + lx*pc.at(ya, xb)
			bottom := (1-lx)*pc.at(yb, xa) + lx*pc.at(yb, xb)
			if (1-ly)*top+ly*bottom > 0 {
				mask.pix[(y-y0)*mask.w+x-x0] = true
			}
		}
	}
	return mask
}

// sourceIndex is PyTorch's bilinear source position for output pixel dst
// with align_corners false: (dst+0.5)*scale-0.5, clamped at 0, and its two
// neighbours and weight.
func sourceIndex(dst int, scale float32, size int) (lo, hi int, frac float32) {
	src := max(scale*(float32(dst)+0.5)-0.5, 0)
	lo = min(int(src), size-1)
	hi = min(lo+1, size-1)
	return lo, hi, src - float32(lo)
}

// upsampleWindow returns the output pixels whose two source neighbours can
// touch prototype pixels lo..hi, with one pixel of slack each side.
func upsampleWindow(lo, hi, outSize int, scale float32) (int, int) {
	first := int(math.Floor(float64((float32(lo)-1+0.5)/scale-0.5))) - 1
	last := int(math.Ceil(float64((float32(hi)+1+0.5)/scale-0.5))) + 1
	return max(first, 0), min(last, outSize-1)
}
