package inference

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/yoloplane/yoloplane/dataplane/tensor"
)

// defaultImageSize fills dynamic height and width axes when the model's
// metadata has no imgsz. It is the Ultralytics default training size.
const defaultImageSize = 640

// checkInputShape validates a concrete input shape against the model's
// input description and returns the number of elements it holds.
func checkInputShape(info tensor.Info, shape []int64) (int, error) {
	if len(shape) != len(info.Shape) {
		return 0, fmt.Errorf("%w: input shape %v has %d axes, model input %q has %d",
			ErrInvalidInput, shape, len(shape), info.Name, len(info.Shape))
	}
	n := int64(1)
	for i, d := range shape {
		if d < 1 {
			return 0, fmt.Errorf("%w: input shape %v: axis %d is %d, must be at least 1",
				ErrInvalidInput, shape, i, d)
		}
		if want := info.Shape[i]; want >= 0 && d != want {
			return 0, fmt.Errorf("%w: input shape %v: axis %d is %d, model input %q needs %d",
				ErrInvalidInput, shape, i, d, info.Name, want)
		}
		// Guard the product against overflow before multiplying.
		if n > (1<<40)/d {
			return 0, fmt.Errorf("%w: input shape %v has more than 2^40 elements",
				ErrInvalidInput, shape)
		}
		n *= d
	}
	return int(n), nil
}

// defaultInputShape returns a concrete shape for info: fixed axes as they
// are, and dynamic ones filled with batch 1, 3 channels and the metadata
// imgsz (or 640) for height and width of an NCHW input. Dynamic axes of
// inputs with another rank become 1.
func defaultInputShape(info tensor.Info, metadata map[string]string) []int64 {
	height, width := parseImageSize(metadata["imgsz"])
	shape := make([]int64, len(info.Shape))
	for i, d := range info.Shape {
		switch {
		case d >= 0:
			shape[i] = d
		case len(info.Shape) != 4 || i == 0:
			shape[i] = 1
		case i == 1:
			shape[i] = 3
		case i == 2:
			shape[i] = height
		default:
			shape[i] = width
		}
	}
	return shape
}

// parseImageSize reads the Ultralytics imgsz metadata value, a Python
// literal that is either "[h, w]" or a single "640". It falls back to
// defaultImageSize for anything else.
func parseImageSize(s string) (height, width int64) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "[")
	s = strings.TrimSuffix(s, "]")
	parts := strings.Split(s, ",")
	if len(parts) > 2 {
		return defaultImageSize, defaultImageSize
	}
	sizes := make([]int64, 0, 2)
	for _, p := range parts {
		v, err := strconv.ParseInt(strings.TrimSpace(p), 10, 64)
		if err != nil || v < 1 || v > 1<<16 {
			return defaultImageSize, defaultImageSize
		}
		sizes = append(sizes, v)
	}
	if len(sizes) == 1 {
		return sizes[0], sizes[0]
	}
	return sizes[0], sizes[1]
}
