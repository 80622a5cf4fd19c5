package postprocess

import (
	"math"
	"slices"
)

// classify returns the TopK classes by probability. Ultralytics' exported
// Classify head already applies softmax; outputs that are not a probability
// distribution (logits from other exports) get a softmax here. Non-finite
// values are dropped.
func (m *Model) classify(scores []float32, p Params) []Detection {
	probs := scores
	if !isDistribution(scores) {
		probs = softmax(scores)
	}
	order := make([]int, 0, len(probs))
	for i, v := range probs {
		if finite32(v) {
			order = append(order, i)
		}
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case probs[a] > probs[b]:
			return -1
		case probs[a] < probs[b]:
			return 1
		}
		return 0
	})
	order = order[:min(len(order), p.TopK)]
	dets := make([]Detection, len(order))
	for i, c := range order {
		dets[i] = Detection{Class: c, Name: m.className(c), Confidence: probs[c]}
	}
	return dets
}

// distributionTolerance allows for int8 quantization of a softmax output,
// whose sum drifts from 1 by a few thousandths.
const distributionTolerance = 0.02

func isDistribution(v []float32) bool {
	var sum float64
	for _, x := range v {
		if !(x >= 0 && x <= 1) {
			return false
		}
		sum += float64(x)
	}
	return math.Abs(sum-1) <= distributionTolerance
}

// softmax is computed in float64 after subtracting the maximum, so large
// logits do not overflow. Non-finite inputs come out as NaN and are
// dropped by the caller.
func softmax(v []float32) []float32 {
	hi := math.Inf(-1)
	for _, x := range v {
		if finite32(x) {
			hi = max(hi, float64(x))
		}
	}
	out := make([]float32, len(v))
	var sum float64
	for i, x := range v {
		if !finite32(x) {
			out[i] = float32(math.NaN())
			continue
		}
		e := math.Exp(float64(x) - hi)
		out[i] = float32(e)
		sum += e
	}
	for i := range out {
		if finite32(out[i]) {
			out[i] = float32(float64(out[i]) / sum)
		}
	}
	return out
}
