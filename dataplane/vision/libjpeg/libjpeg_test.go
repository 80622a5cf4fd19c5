package libjpeg

import (
	"errors"
	"testing"

	"github.com/yoloplane/yoloplane/internal/testshared"
)

const maxPixels = 40_000_000

func TestDecodePhotos(t *testing.T) {
	cases := []struct {
		file string
		w, h int
	}{
		{"bus.jpg", 810, 1080},
		{"bus_gray.jpg", 810, 1080},
		{"zidane.jpg", 1280, 720},
	}
	for _, c := range cases {
		rgb, w, h, err := Decode(testshared.Read(t, "images", c.file), maxPixels)
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if w != c.w || h != c.h || len(rgb) != w*h*3 {
			t.Errorf("%s: %dx%d with %d bytes, want %dx%d", c.file, w, h, len(rgb), c.w, c.h)
		}
	}
}

func TestDecodeGreyReplicates(t *testing.T) {
	rgb, _, _, err := Decode(testshared.Read(t, "images", "bus_gray.jpg"), maxPixels)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(rgb); i += 3 {
		if rgb[i] != rgb[i+1] || rgb[i] != rgb[i+2] {
			t.Fatalf("pixel %d = %v, want three equal channels", i/3, rgb[i:i+3])
		}
	}
}

func TestDecodeDamaged(t *testing.T) {
	cases := []struct {
		file string
		want error
	}{
		{"img_jpeg_truncated_half.jpg", ErrDamaged},
		{"img_jpeg_missing_eoi.jpg", ErrDamaged},
		{"img_text_named.jpg", ErrDamaged},
		{"img_jpeg_sof_65000x65000.jpg", ErrTooLarge},
	}
	for _, c := range cases {
		_, _, _, err := Decode(testshared.Read(t, "cases", "images", c.file), maxPixels)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: error %v, want %v", c.file, err, c.want)
		}
	}
	if _, _, _, err := Decode(nil, maxPixels); !errors.Is(err, ErrDamaged) {
		t.Errorf("empty input: error %v, want ErrDamaged", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(testshared.Read(f, "cases", "images", "img_exif_orient1.jpg"))
	f.Add(testshared.Read(f, "cases", "images", "img_jpeg_truncated_half.jpg"))
	f.Add([]byte{0xff, 0xd8, 0xff, 0xd9})
	f.Fuzz(func(t *testing.T, data []byte) {
		rgb, w, h, err := Decode(data, 1<<20)
		if err == nil && len(rgb) != w*h*3 {
			t.Fatalf("decoded %d bytes for %dx%d", len(rgb), w, h)
		}
	})
}

func BenchmarkDecodeBus(b *testing.B) {
	data := testshared.Read(b, "images", "bus.jpg")
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, _, _, err := Decode(data, maxPixels); err != nil {
			b.Fatal(err)
		}
	}
}
