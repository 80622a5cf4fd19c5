package inference

import "math"

// Float32ToFloat16 returns the IEEE 754 binary16 bits nearest to f, rounding
// ties to even. Values beyond the float16 range become infinity, values
// below half the smallest subnormal (2^-25) become a signed zero, and NaN
// stays a quiet NaN with the sign kept.
func Float32ToFloat16(f float32) uint16 {
	bits := math.Float32bits(f)
	sign := uint16(bits>>16) & 0x8000
	exp := int32(bits>>23) & 0xff
	mant := bits & 0x7fffff

	if exp == 0xff {
		if mant == 0 {
			return sign | 0x7c00
		}
		// The quiet bit keeps a NaN whose payload sits only in the low 13
		// bits from turning into infinity when those bits are dropped.
		return sign | 0x7e00 | uint16(mant>>13)
	}

	// Rebias from float32 (127) to float16 (15).
	e := exp - 112
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		return sign | float16Subnormal(mant|0x800000, e)
	}

	h := uint32(e)<<10 | mant>>13
	rest := mant & 0x1fff
	if rest > 0x1000 || (rest == 0x1000 && h&1 == 1) {
		// A carry out of the mantissa increments the exponent, which is
		// the correct rounding, up to infinity at the top of the range.
		h++
	}
	return sign | uint16(h)
}

// float16Subnormal rounds a 24-bit significand (implicit bit set) with
// rebiased exponent e <= 0 to a float16 subnormal mantissa. A result of
// 0x400 is the smallest normal number, which the caller's bit layout
// already encodes correctly.
func float16Subnormal(sig uint32, e int32) uint16 {
	if e < -10 {
		return 0
	}
	shift := uint32(14 - e)
	h := sig >> shift
	rest := sig & (1<<shift - 1)
	half := uint32(1) << (shift - 1)
	if rest > half || (rest == half && h&1 == 1) {
		h++
	}
	return uint16(h)
}

// Float16ToFloat32 returns the float32 value of IEEE 754 binary16 bits h.
// Every float16 value, subnormals included, is exactly representable, so
// the conversion is exact. NaN payloads are kept.
func Float16ToFloat32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)

	switch exp {
	case 0:
		if mant == 0 {
			return math.Float32frombits(sign)
		}
		// Normalize the subnormal: shift until the implicit bit appears,
		// lowering the float32 exponent once per shift.
		e := uint32(113)
		for mant&0x400 == 0 {
			mant <<= 1
			e--
		}
		return math.Float32frombits(sign | e<<23 | (mant&0x3ff)<<13)
	case 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	}
	return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
}

// Float32sToFloat16s converts src into dst element by element. dst must be
// at least as long as src; only the first len(src) elements are written.
func Float32sToFloat16s(dst []uint16, src []float32) {
	dst = dst[:len(src)]
	for i, f := range src {
		dst[i] = Float32ToFloat16(f)
	}
}

// Float16sToFloat32s converts src into dst element by element. dst must be
// at least as long as src; only the first len(src) elements are written.
func Float16sToFloat32s(dst []float32, src []uint16) {
	dst = dst[:len(src)]
	for i, h := range src {
		dst[i] = Float16ToFloat32(h)
	}
}
