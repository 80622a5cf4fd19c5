package vision

import (
	"testing"

	"github.com/yoloplane/yoloplane/internal/testshared"
)

func benchmarkDecode(b *testing.B, elem ...string) {
	data := testshared.Read(b, elem...)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Decode(data, DecodeOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeJPEG decodes bus.jpg (810×1080, 4:2:0).
func BenchmarkDecodeJPEG(b *testing.B) { benchmarkDecode(b, "images", "bus.jpg") }
func BenchmarkDecodePNG(b *testing.B)  { benchmarkDecode(b, "images", "bus.png") }
func BenchmarkDecodeWebP(b *testing.B) { benchmarkDecode(b, "images", "bus.webp") }

// BenchmarkDecodeBombRefusal measures the header check on the PNG bomb.
func BenchmarkDecodeBombRefusal(b *testing.B) {
	data := testshared.Read(b, "cases", "images", "img_png_bomb_50000x50000.png")
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Decode(data, DecodeOptions{}); err == nil {
			b.Fatal("bomb decoded")
		}
	}
}

// BenchmarkLetterbox is the predict hot path: 810×1080 → 481×640 padded
// to 640×640.
func BenchmarkLetterbox(b *testing.B) {
	img := synthImage(810, 1080, 1)
	dst := make([]float32, 3*640*640)
	b.ReportAllocs()
	for b.Loop() {
		LetterboxCHW(img, 640, 640, dst)
	}
}

func BenchmarkLetterbox16(b *testing.B) {
	img := synthImage(810, 1080, 1)
	dst := make([]uint16, 3*640*640)
	b.ReportAllocs()
	for b.Loop() {
		LetterboxCHW16(img, 640, 640, dst)
	}
}

func BenchmarkLetterboxLarge(b *testing.B) {
	img := synthImage(3775, 1571, 1)
	dst := make([]float32, 3*640*640)
	b.ReportAllocs()
	for b.Loop() {
		LetterboxCHW(img, 640, 640, dst)
	}
}

func BenchmarkClassify(b *testing.B) {
	img := synthImage(810, 1080, 1)
	dst := make([]float32, 3*224*224)
	b.ReportAllocs()
	for b.Loop() {
		ClassifyCHW(img, 224, dst)
	}
}
