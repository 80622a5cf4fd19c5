package vision

import (
	"math"
	"testing"
)

func TestFloat16Values(t *testing.T) {
	cases := []struct {
		f float32
		h uint16
	}{
		{0, 0x0000},
		{float32(math.Copysign(0, -1)), 0x8000},
		{1, 0x3c00},
		{-2, 0xc000},
		{0.5, 0x3800},
		{114.0 / 255, 0x3727},
		{65504, 0x7bff},    // largest finite
		{65519.99, 0x7bff}, // just below the overflow midpoint
		{65520, 0x7c00},    // the midpoint rounds to even: Inf
		{float32(math.Inf(1)), 0x7c00},
		{float32(math.Inf(-1)), 0xfc00},
		{float32(math.Ldexp(1, -14)), 0x0400},   // smallest normal
		{float32(math.Ldexp(1, -24)), 0x0001},   // smallest subnormal
		{float32(math.Ldexp(1, -25)), 0x0000},   // half of it: ties to even, 0
		{float32(math.Ldexp(1.5, -25)), 0x0001}, // above half: rounds up
		{float32(math.Ldexp(3, -25)), 0x0002},   // 1.5 ulp: ties to even, 2
		{float32(math.Ldexp(1, -26)), 0x0000},
		{float32(math.Ldexp(1023, -24)), 0x03ff},  // largest subnormal
		{float32(math.Ldexp(2047, -25)), 0x0400},  // rounds up into the normals
		{1 + float32(math.Ldexp(1, -11)), 0x3c00}, // tie between 1 and 1+2^-10: even
		{1 + float32(math.Ldexp(3, -11)), 0x3c02}, // tie: even is the upper one
	}
	for _, c := range cases {
		if got := Float32ToFloat16(c.f); got != c.h {
			t.Errorf("Float32ToFloat16(%g) = %#04x, want %#04x", c.f, got, c.h)
		}
	}
	if h := Float32ToFloat16(float32(math.NaN())); h&0x7c00 != 0x7c00 || h&0x3ff == 0 {
		t.Errorf("NaN became %#04x", h)
	}
}

// TestFloat16RoundTripAndMidpoints checks all 65536 float16 values: each
// converts to float32 and back unchanged, and the float32 midpoint between
// it and the next value rounds to the even one of the two.
func TestFloat16RoundTripAndMidpoints(t *testing.T) {
	for i := range 1 << 16 {
		h := uint16(i)
		f := Float16ToFloat32(h)
		if math.IsNaN(float64(f)) {
			if h&0x7c00 != 0x7c00 || h&0x3ff == 0 {
				t.Fatalf("%#04x decoded to NaN", h)
			}
			continue
		}
		if back := Float32ToFloat16(f); back != h {
			t.Fatalf("%#04x → %g → %#04x", h, f, back)
		}
		if h&0x7fff >= 0x7bff { // Inf, or the largest finite value
			continue
		}
		next := Float16ToFloat32(h + 1)
		mid := float32((float64(f) + float64(next)) / 2)
		want := h
		if h&1 == 1 {
			want = h + 1
		}
		if got := Float32ToFloat16(mid); got != want {
			t.Fatalf("midpoint %g of %#04x and %#04x → %#04x, want %#04x", mid, h, h+1, got, want)
		}
		above := math.Nextafter32(mid, next)
		if got := Float32ToFloat16(above); got != h+1 {
			t.Fatalf("just past the midpoint of %#04x and %#04x: %#04x", h, h+1, got)
		}
		below := math.Nextafter32(mid, f)
		if got := Float32ToFloat16(below); got != h {
			t.Fatalf("just short of the midpoint of %#04x and %#04x: %#04x", h, h+1, got)
		}
	}
}

func TestFloat16ToFloat32Values(t *testing.T) {
	cases := map[uint16]float32{
		0x3c00: 1, 0xc000: -2, 0x7bff: 65504, 0x0001: float32(math.Ldexp(1, -24)),
		0x03ff: float32(math.Ldexp(1023, -24)), 0x0400: float32(math.Ldexp(1, -14)),
		0x7c00: float32(math.Inf(1)), 0x3555: 0.333251953125,
	}
	for h, want := range cases {
		if got := Float16ToFloat32(h); got != want {
			t.Errorf("Float16ToFloat32(%#04x) = %g, want %g", h, got, want)
		}
	}
}
