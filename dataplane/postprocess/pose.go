package postprocess

// addKeypoints reads each detection's keypoints, which the exported pose
// head writes in input pixels with the visibility already passed through
// a sigmoid, and maps them to the original image with clipping, as
// Ultralytics' scale_coords does. A non-finite coordinate becomes 0 and a
// non-finite visibility 0, so that no NaN reaches a caller.
func (m *Model) addKeypoints(dets []Detection, kept []candidate, extra rows, f Frame) {
	k, d := m.KptShape[0], m.KptShape[1]
	for i, c := range kept {
		kpts := make([][3]float32, k)
		for j := range kpts {
			x, y := extra.at(c.index, j*d), extra.at(c.index, j*d+1)
			vis := float32(1)
			if d == 3 {
				vis = extra.at(c.index, j*d+2)
			}
			if !finite32(vis) {
				vis = 0
			}
			kpts[j] = [3]float32{f.X(x), f.Y(y), vis}
		}
		dets[i].Keypoints = kpts
	}
}
