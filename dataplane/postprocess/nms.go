package postprocess

import (
	"math"
	"slices"
)

// maxNMSCandidates is Ultralytics' max_nms: only the highest-scoring
// candidates enter NMS.
const maxNMSCandidates = 30000

// candidate is one anchor that passed the confidence threshold. box is
// x1, y1, x2, y2 in input pixels, or cx, cy, w, h for oriented boxes.
type candidate struct {
	index int // anchor or row index in the prediction output
	class int
	score float32
	box   [4]float32
	angle float32 // oriented boxes only
}

func finite32(v float32) bool {
	return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0)
}

func finiteBox(b [4]float32) bool {
	return finite32(b[0]) && finite32(b[1]) && finite32(b[2]) && finite32(b[3])
}

// sortCandidates orders by score, highest first. The sort is stable so
// that equal scores keep anchor order and results are deterministic;
// Ultralytics' torch sort leaves ties in an unspecified order. Only the
// first maxNMSCandidates are kept, as Ultralytics' max_nms does.
func sortCandidates(c []candidate) []candidate {
	slices.SortStableFunc(c, func(a, b candidate) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return 0
	})
	if len(c) > maxNMSCandidates {
		c = c[:maxNMSCandidates]
	}
	return c
}

// greedyNMS runs per-class greedy NMS over score-sorted candidates and
// returns the kept ones, at most maxDet, in score order. Going through the
// candidates once in global score order and stopping at maxDet gives the
// same result as NMS followed by truncation, at a cost bounded by
// candidates times maxDet.
//
// NOTE: Ultralytics offsets boxes by class*7680 in float32 before one
// class-blind NMS. For large class ids that rounds coordinates to 1/16 px.
// Here each class is compared with unrounded boxes, so an IoU within about
// 1e-4 of the threshold may be decided differently.
func greedyNMS(c []candidate, iouThr float32, agnostic bool, maxDet int) []candidate {
	kept := make([]candidate, 0, min(len(c), maxDet))
	// keptBoxes holds the kept boxes per class, or all of them under the
	// key 0 when agnostic, so each candidate is compared only with the
	// boxes that may suppress it.
	keptBoxes := map[int][][4]float32{}
	for _, cand := range c {
		if len(kept) == maxDet {
			break
		}
		key := cand.class
		if agnostic {
			key = 0
		}
		if suppressedBy(keptBoxes[key], cand.box, iouThr) {
			continue
		}
		kept = append(kept, cand)
		keptBoxes[key] = append(keptBoxes[key], cand.box)
	}
	return kept
}

func suppressedBy(kept [][4]float32, box [4]float32, iouThr float32) bool {
	for _, k := range kept {
		if iou(k, box) > iouThr {
			return true
		}
	}
	return false
}

// iou is torchvision's box IoU in float32: no +1 on widths, overlap
// clamped at zero. The explicit conversions keep Go from fusing a multiply
// and an add, which would round differently from PyTorch.
func iou(a, b [4]float32) float32 {
	areaA := float32((a[2] - a[0]) * (a[3] - a[1]))
	areaB := float32((b[2] - b[0]) * (b[3] - b[1]))
	w := max(min(a[2], b[2])-max(a[0], b[0]), 0)
	h := max(min(a[3], b[3])-max(a[1], b[1]), 0)
	inter := float32(w * h)
	if inter == 0 {
		return 0
	}
	return inter / (areaA + areaB - inter)
}

// NMS runs Ultralytics' class-aware non-maximum suppression on xyxy boxes
// and returns the indices of the kept boxes, highest score first, at most
// maxDet. Boxes or scores that are NaN or infinite are dropped. Scores are
// not thresholded; Postprocess applies the confidence threshold before NMS.
// The result is empty and non-nil when nothing is kept.
func NMS(boxes [][4]float32, scores []float32, classes []int, iouThr float32, agnostic bool, maxDet int) []int {
	n := min(len(boxes), len(scores))
	if classes != nil {
		n = min(n, len(classes))
	}
	cands := make([]candidate, 0, n)
	for i := 0; i < n; i++ {
		if !finite32(scores[i]) || !finiteBox(boxes[i]) {
			continue
		}
		c := candidate{index: i, score: scores[i], box: boxes[i]}
		if classes != nil {
			c.class = classes[i]
		}
		cands = append(cands, c)
	}
	kept := greedyNMS(sortCandidates(cands), iouThr, agnostic, max(maxDet, 0))
	out := make([]int, len(kept))
	for i, k := range kept {
		out[i] = k.index
	}
	return out
}
