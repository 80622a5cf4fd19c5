package inference

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestFloat32ToFloat16EdgeValues(t *testing.T) {
	tests := []struct {
		name string
		in   float32
		want uint16
	}{
		{"zero", 0, 0x0000},
		{"negative zero", float32(math.Copysign(0, -1)), 0x8000},
		{"one", 1, 0x3c00},
		{"minus two", -2, 0xc000},
		{"max", 65504, 0x7bff},
		{"max plus under half ulp", 65519, 0x7bff},
		{"halfway above max rounds to inf", 65520, 0x7c00},
		{"overflow", 1e6, 0x7c00},
		{"infinity", float32(math.Inf(1)), 0x7c00},
		{"negative infinity", float32(math.Inf(-1)), 0xfc00},
		{"smallest normal", 0x1p-14, 0x0400},
		{"largest subnormal", 0x3ffp-24, 0x03ff},
		{"smallest subnormal", 0x1p-24, 0x0001},
		{"half smallest subnormal ties to zero", 0x1p-25, 0x0000},
		{"above half smallest subnormal", 0x1.000002p-25, 0x0001},
		{"one and a half subnormal ulps ties to even", 0x3p-25, 0x0002},
		{"subnormal rounds up into normal", 0x7ffp-25, 0x0400},
		{"float32 subnormal", 0x1p-140, 0x0000},
		{"tie down to even", 1 + 0x1p-11, 0x3c00},
		{"tie up to even", 1 + 0x3p-11, 0x3c02},
		{"above tie", 1 + 0x1.002p-11, 0x3c01},
		{"one third", 1.0 / 3, 0x3555},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Float32ToFloat16(tt.in); got != tt.want {
				t.Errorf("Float32ToFloat16(%g) = %#04x, want %#04x", tt.in, got, tt.want)
			}
		})
	}
}

func TestFloat32ToFloat16NaN(t *testing.T) {
	for _, bits := range []uint32{0x7fc00000, 0x7f800001, 0xff800001, 0x7fffffff} {
		f := math.Float32frombits(bits)
		h := Float32ToFloat16(f)
		if h&0x7c00 != 0x7c00 || h&0x3ff == 0 {
			t.Errorf("Float32ToFloat16(%#08x) = %#04x, want a NaN", bits, h)
		}
		if h&0x8000 != uint16(bits>>16)&0x8000 {
			t.Errorf("Float32ToFloat16(%#08x) = %#04x, lost the sign", bits, h)
		}
	}
}

func TestFloat16ToFloat32EdgeValues(t *testing.T) {
	tests := []struct {
		in   uint16
		want float32
	}{
		{0x0000, 0},
		{0x3c00, 1},
		{0xc000, -2},
		{0x7bff, 65504},
		{0x0400, 0x1p-14},
		{0x03ff, 0x3ffp-24},
		{0x0001, 0x1p-24},
		{0x8001, -0x1p-24},
		{0x7c00, float32(math.Inf(1))},
		{0xfc00, float32(math.Inf(-1))},
	}
	for _, tt := range tests {
		if got := Float16ToFloat32(tt.in); got != tt.want {
			t.Errorf("Float16ToFloat32(%#04x) = %g, want %g", tt.in, got, tt.want)
		}
	}
	if got := Float16ToFloat32(0x8000); got != 0 || !math.Signbit(float64(got)) {
		t.Errorf("Float16ToFloat32(0x8000) = %g, want -0", got)
	}
	if got := Float16ToFloat32(0x7e01); !math.IsNaN(float64(got)) {
		t.Errorf("Float16ToFloat32(0x7e01) = %g, want NaN", got)
	}
}

// Every float16 value converts to float32 exactly, so converting back must
// give the same bits.
func TestFloat16RoundTripAllValues(t *testing.T) {
	for h := range 1 << 16 {
		f := Float16ToFloat32(uint16(h))
		got := Float32ToFloat16(f)
		if math.IsNaN(float64(f)) {
			if got&0x7c00 != 0x7c00 || got&0x3ff == 0 {
				t.Fatalf("NaN %#04x came back as %#04x", h, got)
			}
			continue
		}
		if got != uint16(h) {
			t.Fatalf("%#04x -> %g -> %#04x", h, f, got)
		}
	}
}

// For random finite inputs in range, the result must be a nearest float16,
// and the even one when both neighbours are equally near.
func TestFloat32ToFloat16RoundsToNearestEven(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200_000 {
		// Cover the float16 range and a little beyond, at every scale.
		f := float32(math.Ldexp(rng.Float64()*2-1, rng.IntN(44)-28))
		h := Float32ToFloat16(f)
		if h&0x7fff >= 0x7c00 {
			if math.Abs(float64(f)) < 65520 {
				t.Fatalf("%g became infinity", f)
			}
			continue
		}
		dist := math.Abs(float64(f) - float64(Float16ToFloat32(h)))
		for _, n := range []uint16{h + 1, h - 1} {
			if n&0x7fff >= 0x7c00 || (h&0x7fff == 0 && n == h-1) {
				continue
			}
			nd := math.Abs(float64(f) - float64(Float16ToFloat32(n)))
			if nd < dist || (nd == dist && h&1 == 1) {
				t.Fatalf("%g -> %#04x (distance %g), but %#04x is at %g", f, h, dist, n, nd)
			}
		}
	}
}

func TestFloat16SliceConversions(t *testing.T) {
	src := []float32{0, 1, -2, 65504, 0x1p-24}
	half := make([]uint16, len(src)+1)
	Float32sToFloat16s(half, src)
	back := make([]float32, len(src))
	Float16sToFloat32s(back, half[:len(src)])
	for i := range src {
		if back[i] != src[i] {
			t.Errorf("element %d: %g came back as %g", i, src[i], back[i])
		}
	}
	if half[len(src)] != 0 {
		t.Errorf("element past the source was written: %#04x", half[len(src)])
	}
}

func BenchmarkFloat32sToFloat16s(b *testing.B) {
	src := make([]float32, 3*640*640)
	for i := range src {
		src[i] = float32(i%255) / 255
	}
	dst := make([]uint16, len(src))
	b.SetBytes(int64(4 * len(src)))
	for b.Loop() {
		Float32sToFloat16s(dst, src)
	}
}
