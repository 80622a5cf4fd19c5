package vision

import "testing"

func TestClassifyGeometry(t *testing.T) {
	cases := []struct {
		w, h, size        int
		rw, rh, left, top int
	}{
		{810, 1080, 224, 224, 298, 0, 37}, // 224·1080/810 = 298.67, truncated
		{1280, 720, 224, 398, 224, 87, 0}, // (398-224)/2 = 87
		{225, 225, 224, 224, 224, 0, 0},
		{100, 80, 224, 280, 224, 28, 0},
		{301, 224, 224, 301, 224, 38, 0}, // 38.5 rounds half to even
		{224, 303, 224, 224, 303, 0, 40}, // 39.5 rounds half to even
	}
	for _, c := range cases {
		rw, rh, left, top := ClassifyGeometry(c.w, c.h, c.size)
		if rw != c.rw || rh != c.rh || left != c.left || top != c.top {
			t.Errorf("%dx%d → %d: got %dx%d at (%d,%d), want %dx%d at (%d,%d)",
				c.w, c.h, c.size, rw, rh, left, top, c.rw, c.rh, c.left, c.top)
		}
	}
}

// TestClassifyMatchesPillow compares hashes of the crop with torchvision's
// Resize(size) + CenterCrop(size) on a PIL image (Pillow 9.4 bilinear) on
// the same synthetic images.
func TestClassifyMatchesPillow(t *testing.T) {
	cases := []struct {
		w, h, size int
		sha256     string
	}{
		{810, 1080, 224, "d5d543e3c5f650e5470173eba83a75c17260d4a73ef3a671a0f14bb3e6e8d084"},
		{1280, 720, 224, "65a9e992c2eef29b3ed626f4b9e377b959a9a78f4ecbe46fbd2dcdb5352fc83c"},
		{225, 225, 224, "ff408556dfbab5bbf0fddac8497d89bfc51c6d29c5a1fdfacb11caf2787bef59"},
		{100, 80, 224, "40fa99b8e8bd9e5ca5a2062b44881b9e52fea2a7a7593127b00a3b6b70701e5b"},
		{224, 300, 224, "478a83d683e2e5d535abb178aba4461a4472d03d75965404483f7cafcaeeaff6"},
		{300, 224, 224, "083ab915c8c49f60f05c3854dc0e4e745d6f8cde32240dba0217eb3216d887ed"},
		{1000, 333, 640, "66dcb2a9830a8970621b44239e7685b2af826bbf26ac60d1d50c01774bb3caaa"},
		{7, 5, 3, "bd91c0d987559356280dec23cfc5a8c81f04f7f09dedbb9336d7c39a7b9b79bb"},
	}
	for _, c := range cases {
		src := synthImage(c.w, c.h, uint32(c.w*31+c.h))
		out := make([]float32, 3*c.size*c.size)
		ClassifyCHW(src, c.size, out)
		if got := sha256Hex(chwToHWC(out, c.size, c.size)); got != c.sha256 {
			t.Errorf("%dx%d → %d: output differs from Pillow (sha256 %s)", c.w, c.h, c.size, got)
		}
	}
}

func TestClassifyIdentityAtSize(t *testing.T) {
	src := synthImage(8, 8, 5)
	out := make([]float32, 3*8*8)
	ClassifyCHW(src, 8, out)
	if sha256Hex(chwToHWC(out, 8, 8)) != sha256Hex(src.Pix) {
		t.Error("an 8×8 image classified at 8 is not passed through unchanged")
	}
	out16 := make([]uint16, 3*8*8)
	ClassifyCHW16(src, 8, out16)
	for i := range out {
		if out16[i] != Float32ToFloat16(out[i]) {
			t.Fatalf("value %d: float16 %#04x, float32 %v", i, out16[i], out[i])
		}
	}
}
