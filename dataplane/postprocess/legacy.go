package postprocess

import (
	"math"

	"github.com/yoloplane/yoloplane/dataplane/tensor"
)

// decodeLegacyV5 follows YOLOv5's non_max_suppression: a row needs its
// objectness above conf, then its best objectness*class score above conf.
func (m *Model) decodeLegacyV5(pred tensor.Tensor, f Frame, p Params) []Detection {
	n, width := int(pred.Shape[1]), int(pred.Shape[2])
	var cands []candidate
	for a := 0; a < n; a++ {
		row := pred.Data[a*width : (a+1)*width]
		obj := row[4]
		if !(obj > p.Conf) {
			continue
		}
		score, class := row[5]*obj, 0
		for c, v := range row[6:] {
			v *= obj
			if v > score {
				score, class = v, c+1
			} else if v != v {
				score = v
			}
		}
		if !(score > p.Conf) || math.IsInf(float64(score), 1) {
			continue
		}
		cands = append(cands, candidate{index: a, class: class, score: score, box: [4]float32{row[0], row[1], row[2], row[3]}})
	}
	kept := greedyNMS(sortCandidates(xywhToXYXY(cands)), p.IoU, p.Agnostic, p.MaxDet)
	return m.detections(kept, f)
}

// decodeEndToEnd keeps the rows whose score is above conf, in output order
// and at most MaxDet of them, as Ultralytics does for end-to-end models:
// NMS already ran inside the graph.
func (m *Model) decodeEndToEnd(pred, proto tensor.Tensor, f Frame, p Params) []Detection {
	n, width := int(pred.Shape[1]), int(pred.Shape[2])
	var kept []candidate
	for r := 0; r < n && len(kept) < p.MaxDet; r++ {
		row := pred.Data[r*width : (r+1)*width]
		score, cls := row[4], row[5]
		if !(score > p.Conf) || !finite32(score) || !(cls >= 0 && cls < maxClassID) {
			continue
		}
		c := candidate{index: r, class: int(cls), score: score, box: [4]float32{row[0], row[1], row[2], row[3]}}
		if m.Task == TaskOBB {
			c.angle = row[6]
		}
		if finiteBox(c.box) && finite32(c.angle) {
			kept = append(kept, c)
		}
	}
	if m.Task == TaskOBB {
		return m.obbDetections(kept, f)
	}
	dets := m.detections(kept, f)
	extra := rows{data: pred.Data, rowStep: width, colStep: 1, offset: 6}
	m.addTaskOutputs(dets, kept, extra, proto, f)
	return dets
}
