package vision

import (
	"image"
	"math"
	"runtime"
	"sync"
)

// Linear light is carried as fixed point with linearBits fraction bits,
// as lcms does in its 8-bit matrix-shaper path. The sRGB curve is steepest
// at black, 12.92·255 ≈ 3294 levels per unit, so a step of 1/16384 moves
// the output by at most 0.2 levels.
const (
	linearBits = 14
	linearOne  = 1 << linearBits
)

// The destination is the sRGB profile that libvips writes and converts to,
// with its numbers as stored in the profile (s15Fixed16): colorants adapted
// to D50 and a parametric curve of type 3. Using the stored, rounded numbers
// instead of the exact sRGB definition makes the output match lcms with that
// profile byte for byte, which the exact definition misses by one level on
// about 0.2 percent of samples.
var (
	srgbColorants = [3][3]float64{
		{28576 / 65536.0, 25238 / 65536.0, 9376 / 65536.0},
		{14578 / 65536.0, 46985 / 65536.0, 3973 / 65536.0},
		{911 / 65536.0, 6362 / 65536.0, 46788 / 65536.0},
	}
	// srgbCurve is g, a, b, c, d of Y = (aX+b)^g for X >= d, else Y = cX.
	srgbCurve = [5]float64{157289 / 65536.0, 62119 / 65536.0, 3417 / 65536.0, 5072 / 65536.0, 2651 / 65536.0}
)

// srgbEncodeTable maps linear light i/linearOne, for i in [0, linearOne],
// to 8-bit sRGB, rounding through 16 bits as lcms's 8-bit output does.
var srgbEncodeTable = sync.OnceValue(func() *[linearOne + 1]uint8 {
	var t [linearOne + 1]uint8
	for i := range t {
		x := float64(float32(float64(i) / linearOne))
		v := min(max(srgbEncode(x), 0), 1)
		w := uint32(min(math.Floor(v*65535+0.5), 65535))
		t[i] = uint8((w*65281 + 8388608) >> 24)
	}
	return &t
})

// srgbEncode is the inverse of srgbCurve: linear light to encoded.
func srgbEncode(y float64) float64 {
	g, a, b, c, d := srgbCurve[0], srgbCurve[1], srgbCurve[2], srgbCurve[3], srgbCurve[4]
	if y >= math.Pow(a*d+b, g) {
		return (math.Pow(y, 1/g) - b) / a
	}
	return y / c
}

// srgbFromD50 converts XYZ in the D50 profile connection space to linear
// sRGB: the inverse of the colorant matrix.
var srgbFromD50 = sync.OnceValue(func() [3][3]float64 {
	return invert3(srgbColorants)
})

// bradford returns the chromatic adaptation matrix from white src to dst.
func bradford(src, dst [3]float64) [3][3]float64 {
	m := [3][3]float64{
		{0.8951, 0.2664, -0.1614},
		{-0.7502, 1.7135, 0.0367},
		{0.0389, -0.0685, 1.0296},
	}
	s, d := mulVec(m, src), mulVec(m, dst)
	var scale [3][3]float64
	for i := range 3 {
		scale[i][i] = d[i] / s[i]
	}
	return mul3(invert3(m), mul3(scale, m))
}

func mul3(a, b [3][3]float64) (m [3][3]float64) {
	for r := range 3 {
		for c := range 3 {
			for k := range 3 {
				m[r][c] += a[r][k] * b[k][c]
			}
		}
	}
	return m
}

func mulVec(a [3][3]float64, v [3]float64) (out [3]float64) {
	for r := range 3 {
		out[r] = a[r][0]*v[0] + a[r][1]*v[1] + a[r][2]*v[2]
	}
	return out
}

// invert3 returns the inverse of a, or a matrix of NaNs when a is singular,
// which colourTransform then rejects.
func invert3(a [3][3]float64) (m [3][3]float64) {
	det := a[0][0]*(a[1][1]*a[2][2]-a[1][2]*a[2][1]) -
		a[0][1]*(a[1][0]*a[2][2]-a[1][2]*a[2][0]) +
		a[0][2]*(a[1][0]*a[2][1]-a[1][1]*a[2][0])
	for r := range 3 {
		for c := range 3 {
			// The cofactor of (c, r), using cyclic indices for the sign.
			r1, r2 := (c+1)%3, (c+2)%3
			c1, c2 := (r+1)%3, (r+2)%3
			m[r][c] = (a[r1][c1]*a[r2][c2] - a[r1][c2]*a[r2][c1]) / det
		}
	}
	return m
}

// maxMatrixCoefficient bounds the entries of the matrix from source RGB to
// sRGB. Real profiles stay below 2; larger entries mean a broken profile,
// and the bound keeps the fixed-point sums far from overflow.
const maxMatrixCoefficient = 64

// colourTransform converts 8-bit pixels of one profile to 8-bit sRGB.
type colourTransform struct {
	gray    bool
	grayLUT [256]uint8    // whole transform of a grey profile
	linear  [3][256]int64 // source TRCs in units of 1/linearOne
	matrix  [3][3]int64   // linear source RGB to linear sRGB, same units
	encode  *[linearOne + 1]uint8
}

// newColourTransform builds the tables for p. It returns nil when the
// transform would change no value by more than one level, which is the case
// for the many sRGB profiles that differ from the standard only by
// rounding, and when the profile gives out-of-range numbers.
func newColourTransform(p *iccProfile) *colourTransform {
	t := &colourTransform{gray: p.gray, encode: srgbEncodeTable()}
	if p.gray {
		return t.buildGray(p.trc[0])
	}
	m := mul3(srgbFromD50(), p.colorants)
	for r := range 3 {
		for c := range 3 {
			// The negated comparison is also true for NaN.
			if !(math.Abs(m[r][c]) <= maxMatrixCoefficient) {
				return nil
			}
			t.matrix[r][c] = int64(math.Round(m[r][c] * linearOne))
		}
	}
	for c := range 3 {
		for v := range 256 {
			t.linear[c][v] = toFixed(p.trc[c](float64(v) / 255))
		}
	}
	if t.isIdentity() {
		return nil
	}
	return t
}

func (t *colourTransform) buildGray(trc toneCurve) *colourTransform {
	identity := true
	for v := range 256 {
		t.grayLUT[v] = t.encodeLinear(toFixed(trc(float64(v) / 255)))
		if d := int(t.grayLUT[v]) - v; d > 1 || d < -1 {
			identity = false
		}
	}
	if identity {
		return nil
	}
	return t
}

// toFixed converts linear light to units of 1/linearOne, clipped to [0, 1].
// A curve that returns NaN gives 0.
func toFixed(v float64) int64 {
	if !(v > 0) {
		return 0
	}
	return int64(math.Round(min(v, 1) * linearOne))
}

// isIdentity checks a 17×17×17 grid of colours, every 16th level and 255.
func (t *colourTransform) isIdentity() bool {
	var in, out [3]uint8
	for r := 0; r <= 256; r += 16 {
		for g := 0; g <= 256; g += 16 {
			for b := 0; b <= 256; b += 16 {
				in = [3]uint8{uint8(min(r, 255)), uint8(min(g, 255)), uint8(min(b, 255))}
				t.pixel(out[:], in[0], in[1], in[2])
				for c := range 3 {
					if d := int(out[c]) - int(in[c]); d > 1 || d < -1 {
						return false
					}
				}
			}
		}
	}
	return true
}

// encodeLinear looks up linear light in the sRGB table, clipping colours
// outside the sRGB gamut as lcms does for 8-bit output.
func (t *colourTransform) encodeLinear(v int64) uint8 {
	return t.encode[min(max(v, 0), linearOne)]
}

func (t *colourTransform) pixel(out []uint8, r, g, b uint8) {
	const half = 1 << (linearBits - 1)
	lr, lg, lb := t.linear[0][r], t.linear[1][g], t.linear[2][b]
	m := &t.matrix
	out = out[:3]
	out[0] = t.encodeLinear((m[0][0]*lr + m[0][1]*lg + m[0][2]*lb + half) >> linearBits)
	out[1] = t.encodeLinear((m[1][0]*lr + m[1][1]*lg + m[1][2]*lb + half) >> linearBits)
	out[2] = t.encodeLinear((m[2][0]*lr + m[2][1]*lg + m[2][2]*lb + half) >> linearBits)
}

// apply converts img in place.
func (t *colourTransform) apply(img *Image) {
	if t.gray {
		for i, v := range img.Pix {
			img.Pix[i] = t.grayLUT[v]
		}
		return
	}
	// Split large images between goroutines, as the letterbox does.
	pixels := len(img.Pix) / 3
	workers := min(runtime.GOMAXPROCS(0), pixels/(1<<16), 4)
	if workers <= 1 {
		t.applyRange(img.Pix)
		return
	}
	var wg sync.WaitGroup
	for k := range workers {
		part := img.Pix[3*(pixels*k/workers) : 3*(pixels*(k+1)/workers)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.applyRange(part)
		}()
	}
	wg.Wait()
}

func (t *colourTransform) applyRange(pix []uint8) {
	for i := 0; i+3 <= len(pix); i += 3 {
		t.pixel(pix[i:i+3], pix[i], pix[i+1], pix[i+2])
	}
}

// convertToSRGB converts img, the packed RGB of the decoded image m, from
// the embedded profile to sRGB. A missing or unsupported profile, or one
// whose colour space differs from m's, leaves img as it is.
//
// TODO: CMYK images keep the plain conversion of convertCMYK, because CMYK
// profiles are LUT-based. libvips converts them through the profile.
func convertToSRGB(img *Image, m image.Image, profile []byte) {
	switch m.(type) {
	case *image.CMYK:
		return
	case *image.Gray, *image.Gray16:
		convertProfileToSRGB(img, true, profile)
	default:
		convertProfileToSRGB(img, false, profile)
	}
}

// convertProfileToSRGB converts img from the colour space of profile to
// sRGB. sourceGray tells whether the file stored grey samples, which only a
// grey profile describes. Profiles that do not apply are ignored.
func convertProfileToSRGB(img *Image, sourceGray bool, profile []byte) {
	if len(profile) == 0 {
		return
	}
	p, err := parseICC(profile)
	if err != nil || p.gray != sourceGray {
		return
	}
	if t := newColourTransform(p); t != nil {
		t.apply(img)
	}
}
