package postprocess

// binaryMask is a window of a foreground/background image. Pixel (x, y) of
// the window is pixel (x0+x, y0+y) of the full image, and everything
// outside the window is background.
type binaryMask struct {
	x0, y0 int
	w, h   int
	pix    []bool // row-major, w*h
}

// neighbour offsets in counterclockwise order on a y-down raster, starting
// east: E, NE, N, NW, W, SW, S, SE. Clockwise is decreasing index.
var (
	dirRow = [8]int{0, -1, -1, -1, 0, 1, 1, 1}
	dirCol = [8]int{1, 1, 0, -1, -1, -1, 0, 1}
)

// borderTracer follows borders with Suzuki and Abe's algorithm 1
// ("Topological Structural Analysis of Digitized Binary Images by Border
// Following", 1985), the algorithm behind OpenCV's findContours. The
// label image has a one-pixel background frame so that neighbours of
// window pixels are always inside it.
type borderTracer struct {
	label   []int32 // 0 background, 1 unvisited foreground, ±n border n
	stride  int
	isHole  []bool  // per border number; 1 is the frame, a hole
	parent  []int32 // per border number
	points  [][2]int
	encoded []int8
}

// largestExternalContour returns the outer border, among those not nested
// in a hole of another region, with the most points after OpenCV's
// CHAIN_APPROX_SIMPLE compression, in full-image pixel coordinates. That
// is the contour Ultralytics' masks2segments picks with its default
// "largest" strategy (RETR_EXTERNAL, longest point list). On a tie the
// contour found last in raster order wins, because OpenCV lists contours
// in reverse order of discovery and argmax takes the first.
func (m binaryMask) largestExternalContour() [][2]int {
	t := newBorderTracer(m)
	var best [][2]int
	rows, cols := m.h+2, m.w+2
	for i := 1; i < rows-1; i++ {
		lnbd := int32(1)
		for j := 1; j < cols-1; j++ {
			p := i*t.stride + j
			v := t.label[p]
			if v == 0 {
				continue
			}
			switch {
			case v == 1 && t.label[p-1] == 0:
				pts := t.follow(i, j, 4, false, lnbd)
				if pts != nil && len(pts) >= len(best) {
					best = append(best[:0:0], pts...)
				}
			case v >= 1 && t.label[p+1] == 0:
				if v > 1 {
					lnbd = v
				}
				t.follow(i, j, 0, true, lnbd)
			}
			if l := t.label[p]; l != 1 {
				lnbd = max(l, -l)
			}
		}
	}
	for k := range best {
		best[k] = [2]int{best[k][0] + m.x0 - 1, best[k][1] + m.y0 - 1}
	}
	return best
}

func newBorderTracer(m binaryMask) *borderTracer {
	stride := m.w + 2
	t := &borderTracer{
		label:  make([]int32, stride*(m.h+2)),
		stride: stride,
		isHole: []bool{false, true},
		parent: []int32{0, 0},
	}
	for y := 0; y < m.h; y++ {
		for x := 0; x < m.w; x++ {
			if m.pix[y*m.w+x] {
				t.label[(y+1)*stride+x+1] = 1
			}
		}
	}
	return t
}

// follow traces the border that starts at (i, j), whose known background
// neighbour is in direction startDir, labels it, and returns its
// compressed points when it is an external outer border, else nil.
func (t *borderTracer) follow(i, j, startDir int, hole bool, lnbd int32) [][2]int {
	nbd := int32(len(t.isHole))
	parent := lnbd
	if t.isHole[lnbd] == hole {
		parent = t.parent[lnbd]
	}
	t.isHole = append(t.isHole, hole)
	t.parent = append(t.parent, parent)
	external := !hole && parent == 1

	t.points = t.points[:0]
	t.trace(i, j, startDir, nbd)
	if !external {
		return nil
	}
	return t.compress()
}

// trace runs steps 3.1 to 3.5 of the algorithm, recording every border
// pixel as (column, row) in t.points.
func (t *borderTracer) trace(i, j, startDir int, nbd int32) {
	start := i*t.stride + j
	// 3.1: clockwise from the background neighbour to the first foreground.
	d1 := -1
	for k := 0; k < 8; k++ {
		d := (startDir - k + 8) % 8
		if t.label[start+dirRow[d]*t.stride+dirCol[d]] != 0 {
			d1 = d
			break
		}
	}
	if d1 < 0 {
		t.label[start] = -nbd
		t.points = append(t.points, [2]int{j, i})
		return
	}
	p1 := start + dirRow[d1]*t.stride + dirCol[d1]
	p3, back := start, d1 // back: direction from p3 to the previous pixel
	ci, cj := i, j
	for {
		t.points = append(t.points, [2]int{cj, ci})
		// 3.3: counterclockwise from the pixel after the previous one.
		eastZero := false
		var d4 int
		for k := 1; k <= 8; k++ {
			d := (back + k) % 8
			if t.label[p3+dirRow[d]*t.stride+dirCol[d]] != 0 {
				d4 = d
				break
			}
			if d == 0 {
				eastZero = true
			}
		}
		// 3.4: mark the pixel; negative when its east side is background.
		if eastZero {
			t.label[p3] = -nbd
		} else if t.label[p3] == 1 {
			t.label[p3] = nbd
		}
		p4 := p3 + dirRow[d4]*t.stride + dirCol[d4]
		// 3.5: stop when back at the start about to repeat the first step.
		if p4 == start && p3 == p1 {
			return
		}
		back = (d4 + 4) % 8
		p3 = p4
		ci, cj = ci+dirRow[d4], cj+dirCol[d4]
	}
}

// compress applies CHAIN_APPROX_SIMPLE: a point is kept when the step
// leaving it differs from the step that reached it. The first point is
// always kept, as in OpenCV.
func (t *borderTracer) compress() [][2]int {
	pts := t.points
	n := len(pts)
	if n <= 2 {
		return append([][2]int(nil), pts...)
	}
	t.encoded = grow(t.encoded, n)
	for k := range pts {
		next := pts[(k+1)%n]
		t.encoded[k] = stepCode(next[0]-pts[k][0], next[1]-pts[k][1])
	}
	out := [][2]int{pts[0]}
	for k := 1; k < n; k++ {
		if t.encoded[k] != t.encoded[k-1] {
			out = append(out, pts[k])
		}
	}
	return out
}

func stepCode(dx, dy int) int8 {
	return int8((dy+1)*3 + dx + 1)
}
