package vision

import (
	"image"
	"image/color"
)

// toRGB converts a decoded image to packed RGB. Each concrete type the
// decoders return has its own loop; At() is only the fallback for types no
// decoder here produces, because At().RGBA() premultiplies alpha and would
// turn the stored colour of a transparent pixel into black.
func toRGB(m image.Image, f Format) (*Image, error) {
	b := m.Bounds()
	if err := checkDimensions(f, b.Dx(), b.Dy(), 1<<62); err != nil {
		return nil, err
	}
	dst := NewImage(b.Dx(), b.Dy())
	switch m := m.(type) {
	case *image.YCbCr:
		convertYCbCr(dst, m, f)
	case *image.NYCbCrA:
		convertYCbCr(dst, &m.YCbCr, f)
	case *image.Gray:
		convertGray(dst, m)
	case *image.Gray16:
		convertGray16(dst, m)
	case *image.NRGBA:
		convertNRGBA(dst, m.Pix, m.Stride, m.PixOffset(b.Min.X, b.Min.Y))
	case *image.RGBA:
		convertRGBA(dst, m)
	case *image.NRGBA64:
		convertNRGBA64(dst, m.Pix, m.Stride, m.PixOffset(b.Min.X, b.Min.Y))
	case *image.RGBA64:
		convertRGBA64(dst, m)
	case *image.Paletted:
		convertPaletted(dst, m)
	case *image.CMYK:
		convertCMYK(dst, m)
	default:
		convertAny(dst, m)
	}
	return dst, nil
}

func convertGray(dst *Image, m *image.Gray) {
	b := m.Bounds()
	for y := 0; y < dst.H; y++ {
		src := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:dst.W]
		out := dst.Pix[3*y*dst.W:][:3*dst.W]
		for x, v := range src {
			out[3*x], out[3*x+1], out[3*x+2] = v, v, v
		}
	}
}

// convertGray16 keeps the high byte of each sample, as libvips and libpng's
// strip_16 do when a 16-bit image is reduced to 8 bits.
func convertGray16(dst *Image, m *image.Gray16) {
	b := m.Bounds()
	for y := 0; y < dst.H; y++ {
		src := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:2*dst.W]
		out := dst.Pix[3*y*dst.W:][:3*dst.W]
		for x := 0; x < dst.W; x++ {
			v := src[2*x]
			out[3*x], out[3*x+1], out[3*x+2] = v, v, v
		}
	}
}

// convertNRGBA drops alpha and keeps the stored, non-premultiplied colour.
func convertNRGBA(dst *Image, pix []byte, stride, off int) {
	for y := 0; y < dst.H; y++ {
		src := pix[off+y*stride:][:4*dst.W]
		out := dst.Pix[3*y*dst.W:][:3*dst.W]
		for x := 0; x < dst.W; x++ {
			out[3*x], out[3*x+1], out[3*x+2] = src[4*x], src[4*x+1], src[4*x+2]
		}
	}
}

// convertRGBA handles premultiplied 8-bit RGBA. The decoders here produce
// it only for opaque images (PNG truecolour, RGB JPEG, BMP). A partly
// transparent pixel is un-premultiplied. A fully transparent one comes out
// black, because premultiplying has already erased its colour.
func convertRGBA(dst *Image, m *image.RGBA) {
	b := m.Bounds()
	for y := 0; y < dst.H; y++ {
		src := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:4*dst.W]
		out := dst.Pix[3*y*dst.W:][:3*dst.W]
		for x := 0; x < dst.W; x++ {
			r, g, bl, a := src[4*x], src[4*x+1], src[4*x+2], src[4*x+3]
			if a != 0xff && a != 0 {
				r, g, bl = unpremultiply(r, a), unpremultiply(g, a), unpremultiply(bl, a)
			}
			out[3*x], out[3*x+1], out[3*x+2] = r, g, bl
		}
	}
}

func unpremultiply(c, a uint8) uint8 {
	v := (uint32(c)*255 + uint32(a)/2) / uint32(a)
	if v > 255 {
		v = 255
	}
	return uint8(v)
}

// convertNRGBA64 keeps the high byte of each 16-bit sample (see convertGray16).
func convertNRGBA64(dst *Image, pix []byte, stride, off int) {
	for y := 0; y < dst.H; y++ {
		src := pix[off+y*stride:][:8*dst.W]
		out := dst.Pix[3*y*dst.W:][:3*dst.W]
		for x := 0; x < dst.W; x++ {
			out[3*x], out[3*x+1], out[3*x+2] = src[8*x], src[8*x+2], src[8*x+4]
		}
	}
}

// convertRGBA64 handles premultiplied 16-bit RGBA, which image/png returns
// for opaque 16-bit truecolour.
func convertRGBA64(dst *Image, m *image.RGBA64) {
	b := m.Bounds()
	for y := 0; y < dst.H; y++ {
		src := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:8*dst.W]
		out := dst.Pix[3*y*dst.W:][:3*dst.W]
		for x := 0; x < dst.W; x++ {
			p := src[8*x:][:8]
			a := uint32(p[6])<<8 | uint32(p[7])
			if a == 0xffff || a == 0 {
				out[3*x], out[3*x+1], out[3*x+2] = p[0], p[2], p[4]
				continue
			}
			for c := 0; c < 3; c++ {
				v := uint32(p[2*c])<<8 | uint32(p[2*c+1])
				out[3*x+c] = uint8(min((v*0xffff+a/2)/a, 0xffff) >> 8)
			}
		}
	}
}

// convertPaletted resolves the palette once into a 256-entry table. Indexes
// past the end of the palette come out black.
func convertPaletted(dst *Image, m *image.Paletted) {
	var lut [256][3]uint8
	for i, c := range m.Palette {
		if i == len(lut) {
			break
		}
		lut[i] = storedRGB(c)
	}
	b := m.Bounds()
	for y := 0; y < dst.H; y++ {
		src := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:dst.W]
		out := dst.Pix[3*y*dst.W:][:3*dst.W]
		for x, idx := range src {
			e := &lut[idx]
			out[3*x], out[3*x+1], out[3*x+2] = e[0], e[1], e[2]
		}
	}
}

// storedRGB returns a colour's stored RGB without premultiplying it.
func storedRGB(c color.Color) [3]uint8 {
	switch c := c.(type) {
	case color.NRGBA:
		return [3]uint8{c.R, c.G, c.B}
	case color.RGBA:
		if c.A != 0xff && c.A != 0 {
			return [3]uint8{unpremultiply(c.R, c.A), unpremultiply(c.G, c.A), unpremultiply(c.B, c.A)}
		}
		return [3]uint8{c.R, c.G, c.B}
	case color.NRGBA64:
		return [3]uint8{uint8(c.R >> 8), uint8(c.G >> 8), uint8(c.B >> 8)}
	case color.Gray:
		return [3]uint8{c.Y, c.Y, c.Y}
	case nil:
		return [3]uint8{}
	}
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	return [3]uint8{n.R, n.G, n.B}
}

// convertCMYK turns image/jpeg's CMYK (0 means no ink; the decoder has
// already undone Adobe's inverted storage and YCCK) into RGB with the plain
// formula R = (255-C)(255-K)/255, rounded.
//
// TODO: libvips converts CMYK through an ICC profile (the embedded one or
// its built-in CMYK profile), so CMYK JPEGs differ from the reference by
// tens of levels (mean 24 on a test crop). Matching it needs colour
// management.
func convertCMYK(dst *Image, m *image.CMYK) {
	b := m.Bounds()
	for y := 0; y < dst.H; y++ {
		src := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:4*dst.W]
		out := dst.Pix[3*y*dst.W:][:3*dst.W]
		for x := 0; x < dst.W; x++ {
			w := 255 - uint32(src[4*x+3])
			out[3*x] = mul255(255-uint32(src[4*x]), w)
			out[3*x+1] = mul255(255-uint32(src[4*x+1]), w)
			out[3*x+2] = mul255(255-uint32(src[4*x+2]), w)
		}
	}
}

// mul255 returns round(a*b/255) for a, b in [0, 255].
func mul255(a, b uint32) uint8 {
	t := a*b + 128
	return uint8((t + t>>8) >> 8)
}

// convertAny is the slow path for image types that no decoder here returns.
func convertAny(dst *Image, m image.Image) {
	b := m.Bounds()
	for y := 0; y < dst.H; y++ {
		out := dst.Pix[3*y*dst.W:][:3*dst.W]
		for x := 0; x < dst.W; x++ {
			c := storedRGB(m.At(b.Min.X+x, b.Min.Y+y))
			out[3*x], out[3*x+1], out[3*x+2] = c[0], c[1], c[2]
		}
	}
}
