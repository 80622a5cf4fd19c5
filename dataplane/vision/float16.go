package vision

import "math"

// Float32ToFloat16 returns the IEEE 754 binary16 bits nearest to f, with
// ties to even. Values beyond the float16 range become ±Inf, values below
// its smallest subnormal become ±0, and NaN stays a (quiet) NaN.
func Float32ToFloat16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	mant := b & 0x7fffff
	switch {
	case exp == 0xff: // Inf or NaN
		if mant != 0 {
			return sign | 0x7e00 | uint16(mant>>13)
		}
		return sign | 0x7c00
	case exp > 127+15: // overflow
		return sign | 0x7c00
	case exp >= 127-14: // normal float16
		h := uint32(exp-127+15)<<10 | mant>>13
		return sign | uint16(roundShifted(h, mant, 13))
	case exp >= 127-25: // subnormal float16 (or rounds up to the smallest normal)
		m := mant | 0x800000       // implicit leading one
		shift := uint32(126 - exp) // 14..24
		return sign | uint16(roundShifted(m>>shift, m, shift))
	}
	return sign // underflow to zero
}

// roundShifted rounds h, which is full>>shift, to nearest even using the
// bits of full that the shift dropped. A carry out of the mantissa moves
// into the exponent, which is the right result for binary16 layout.
func roundShifted(h, full, shift uint32) uint32 {
	rest := full & (1<<shift - 1)
	half := uint32(1) << (shift - 1)
	if rest > half || (rest == half && h&1 == 1) {
		h++
	}
	return h
}

// Float16ToFloat32 returns the float32 value of IEEE 754 binary16 bits.
// Every float16 value, subnormals included, is exact in float32.
func Float16ToFloat32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp != 0: // normal
		return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
	case mant == 0:
		return math.Float32frombits(sign)
	}
	// Subnormal: normalise the mantissa.
	e := uint32(127 - 15 + 1)
	for mant&0x400 == 0 {
		mant <<= 1
		e--
	}
	return math.Float32frombits(sign | e<<23 | (mant&0x3ff)<<13)
}
