package postprocess

import (
	"math"

	"github.com/yoloplane/yoloplane/dataplane/tensor"
)

// decodeOBB decodes a [1, 4+nc+1, N] oriented-box head: centre, size,
// class scores, then the angle in radians.
func (m *Model) decodeOBB(pred tensor.Tensor, f Frame, p Params) []Detection {
	n := int(pred.Shape[2])
	angles := pred.Data[(4+m.NumClasses)*n:]
	cands := rawCandidates(pred.Data, n, m.NumClasses, p.Conf)
	out := cands[:0]
	for _, c := range cands {
		c.angle = angles[c.index]
		if finiteBox(c.box) && finite32(c.angle) {
			out = append(out, c)
		}
	}
	kept := rotatedNMS(sortCandidates(out), p.IoU, p.Agnostic, p.MaxDet)
	return m.obbDetections(kept, f)
}

// rotatedNMS is Ultralytics' Fast-NMS for oriented boxes: a box is dropped
// when its probiou with any higher-scoring box of the same class is at or
// above the threshold, even when that box was itself dropped. Ultralytics
// uses >= here, unlike the strict > of axis-aligned NMS.
func rotatedNMS(c []candidate, iouThr float32, agnostic bool, maxDet int) []candidate {
	kept := make([]candidate, 0, min(len(c), maxDet))
	for j := range c {
		if len(kept) == maxDet {
			break
		}
		suppressed := false
		for i := 0; i < j && !suppressed; i++ {
			if agnostic || c[i].class == c[j].class {
				suppressed = probiou(c[i], c[j]) >= float64(iouThr)
			}
		}
		if !suppressed {
			kept = append(kept, c[j])
		}
	}
	return kept
}

// covariance returns the entries a, b, c of the covariance matrix of the
// Gaussian that probiou fits to a rotated box of width w, height h.
func covariance(w, h, angle float64) (a, b, c float64) {
	varW, varH := w*w/12, h*h/12
	cos, sin := math.Cos(angle), math.Sin(angle)
	return varW*cos*cos + varH*sin*sin, varW*sin*sin + varH*cos*cos, (varW - varH) * cos * sin
}

// probiou is the probabilistic IoU of two oriented boxes (Llerena et al.,
// "Gaussian Bounding Boxes and Probabilistic Intersection-over-Union for
// Object Detection", 2021), written as Ultralytics' batch_probiou with the
// same eps and clamp. It runs in float64 where Ultralytics uses float32.
func probiou(p, q candidate) float64 {
	const eps = 1e-7
	x1, y1 := float64(p.box[0]), float64(p.box[1])
	x2, y2 := float64(q.box[0]), float64(q.box[1])
	a1, b1, c1 := covariance(float64(p.box[2]), float64(p.box[3]), float64(p.angle))
	a2, b2, c2 := covariance(float64(q.box[2]), float64(q.box[3]), float64(q.angle))

	denom := (a1+a2)*(b1+b2) - (c1+c2)*(c1+c2) + eps
	t1 := ((a1+a2)*(y1-y2)*(y1-y2) + (b1+b2)*(x1-x2)*(x1-x2)) / denom * 0.25
	t2 := ((c1 + c2) * (x2 - x1) * (y1 - y2)) / denom * 0.5
	det1 := max(a1*b1-c1*c1, 0)
	det2 := max(a2*b2-c2*c2, 0)
	t3 := math.Log(((a1+a2)*(b1+b2)-(c1+c2)*(c1+c2))/(4*math.Sqrt(det1*det2)+eps)+eps) * 0.5
	bd := min(max(t1+t2+t3, eps), 100)
	hd := math.Sqrt(1 - math.Exp(-bd) + eps)
	return 1 - hd
}

// regularizeRBox is Ultralytics' regularize_rboxes: the angle is folded
// into [0, pi/2) and width and height swap when that turns the box by a
// quarter.
func regularizeRBox(w, h, angle float64) (float64, float64, float64) {
	t := math.Mod(angle, math.Pi)
	if t < 0 {
		t += math.Pi
	}
	if t >= math.Pi/2 {
		w, h = h, w
	}
	t = math.Mod(angle, math.Pi/2)
	if t < 0 {
		t += math.Pi / 2
	}
	return w, h, t
}

// obbCorners is Ultralytics' xywhr2xyxyxyxy.
func obbCorners(cx, cy, w, h, angle float64) [4][2]float32 {
	cos, sin := math.Cos(angle), math.Sin(angle)
	v1x, v1y := w/2*cos, w/2*sin
	v2x, v2y := -h/2*sin, h/2*cos
	return [4][2]float32{
		{float32(cx + v1x + v2x), float32(cy + v1y + v2y)},
		{float32(cx + v1x - v2x), float32(cy + v1y - v2y)},
		{float32(cx - v1x - v2x), float32(cy - v1y - v2y)},
		{float32(cx - v1x + v2x), float32(cy - v1y + v2y)},
	}
}

// obbDetections maps kept oriented boxes to the original image. The centre
// loses the padding and every length is divided by the scale; corners are
// not clipped, as in Ultralytics, but Box, their bounds, is.
func (m *Model) obbDetections(kept []candidate, f Frame) []Detection {
	dets := make([]Detection, len(kept))
	for i, c := range kept {
		w, h, angle := regularizeRBox(float64(c.box[2]), float64(c.box[3]), float64(c.angle))
		cx := (float64(c.box[0]) - f.PadX) / f.Scale
		cy := (float64(c.box[1]) - f.PadY) / f.Scale
		corners := obbCorners(cx, cy, w/f.Scale, h/f.Scale, angle)
		dets[i] = Detection{
			Class:      c.class,
			Name:       m.className(c.class),
			Confidence: c.score,
			Box:        cornerBounds(corners, f),
			Corners:    &corners,
		}
	}
	return dets
}

func cornerBounds(pts [4][2]float32, f Frame) [4]float32 {
	x1, y1, x2, y2 := pts[0][0], pts[0][1], pts[0][0], pts[0][1]
	for _, p := range pts[1:] {
		x1, y1 = min(x1, p[0]), min(y1, p[1])
		x2, y2 = max(x2, p[0]), max(y2, p[1])
	}
	return [4]float32{
		clip(float64(x1), float64(f.OrigW)), clip(float64(y1), float64(f.OrigH)),
		clip(float64(x2), float64(f.OrigW)), clip(float64(y2), float64(f.OrigH)),
	}
}
