package vision

// orient returns img turned upright for an EXIF orientation value. Values
// 1 and anything outside 2..8 return img itself; the others return a new
// image (5..8 swap width and height).
//
// The eight values, with (x, y) an output pixel and W×H the stored size:
//
//	1 (x, y)          2 mirror: (W-1-x, y)      3 rotate 180: (W-1-x, H-1-y)
//	4 flip: (x, H-1-y) 5 transpose: (y, x)      6 rotate 90 CW: (y, H-1-x)
//	7 transverse: (W-1-y, H-1-x)                8 rotate 90 CCW: (W-1-y, x)
func orient(img *Image, o int) *Image {
	if o < 2 || o > 8 {
		return img
	}
	w, h := img.W, img.H
	ow, oh := w, h
	if o >= 5 {
		ow, oh = h, w
	}
	out := NewImage(ow, oh)
	// For output row y, the source pixel of x is base(y) + x*step, in pixels.
	stepX, stepY := 1, w // source steps for +1 in output x and output y
	start := 0
	switch o {
	case 2:
		stepX, start = -1, w-1
	case 3:
		stepX, stepY, start = -1, -w, w*h-1
	case 4:
		stepY, start = -w, (h-1)*w
	case 5:
		stepX, stepY = w, 1
	case 6:
		stepX, stepY, start = -w, 1, (h-1)*w
	case 7:
		stepX, stepY, start = -w, -1, h*w-1
	case 8:
		stepX, stepY, start = w, -1, w-1
	}
	src := img.Pix
	for y := range oh {
		row := out.Pix[3*y*ow:][:3*ow]
		p := start + y*stepY
		for x := range ow {
			s := src[3*p:][:3]
			row[3*x], row[3*x+1], row[3*x+2] = s[0], s[1], s[2]
			p += stepX
		}
	}
	return out
}
