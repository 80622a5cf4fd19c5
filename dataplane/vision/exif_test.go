package vision

import (
	"encoding/binary"
	"hash/crc32"
	"testing"
)

func crc32IEEE(b []byte) uint32 { return crc32.ChecksumIEEE(b) }

// tiffWithOrientation builds a minimal TIFF blob whose IFD0 holds one
// unrelated tag and then the Orientation tag.
func tiffWithOrientation(littleEndian bool, v uint16) []byte {
	var bo binary.AppendByteOrder = binary.BigEndian
	b := []byte("MM\x00\x2a\x00\x00\x00\x08")
	if littleEndian {
		bo = binary.LittleEndian
		b = []byte("II\x2a\x00\x08\x00\x00\x00")
	}
	b = bo.AppendUint16(b, 2)
	b = appendEntry(b, bo, 0x010f, 2, 4, 0) // Make, ASCII
	b = appendEntry(b, bo, 0x0112, 3, 1, uint32(v))
	return bo.AppendUint32(b, 0)
}

func appendEntry(b []byte, bo binary.AppendByteOrder, tag, typ uint16, count, value uint32) []byte {
	b = bo.AppendUint16(b, tag)
	b = bo.AppendUint16(b, typ)
	b = bo.AppendUint32(b, count)
	if typ == 3 {
		b = bo.AppendUint16(b, uint16(value))
		return bo.AppendUint16(b, 0)
	}
	return bo.AppendUint32(b, value)
}

func TestTIFFOrientation(t *testing.T) {
	longType := []byte("II\x2a\x00\x08\x00\x00\x00\x01\x00")
	longType = appendEntry(longType, binary.LittleEndian, 0x0112, 4, 1, 7)
	cases := []struct {
		name string
		tiff []byte
		want int
	}{
		{"big endian 6", tiffWithOrientation(false, 6), 6},
		{"little endian 3", tiffWithOrientation(true, 3), 3},
		{"each value", tiffWithOrientation(true, 8), 8},
		{"zero is invalid", tiffWithOrientation(true, 0), 1},
		{"nine is out of range", tiffWithOrientation(false, 9), 1},
		{"65535 is out of range", tiffWithOrientation(false, 65535), 1},
		{"LONG type", longType, 7},
		{"empty", nil, 1},
		{"bad byte order", []byte("XX\x00\x2a\x00\x00\x00\x08\x00\x00"), 1},
		{"bad magic", []byte("MM\x00\x2b\x00\x00\x00\x08\x00\x00"), 1},
		{"IFD offset past the end", []byte("MM\x00\x2a\x7f\xff\xff\xff"), 1},
		{"IFD offset inside header", []byte("MM\x00\x2a\x00\x00\x00\x02\x00\x01"), 1},
		{"entry count past the end", []byte("MM\x00\x2a\x00\x00\x00\x08\xff\xff\x01\x12"), 1},
		{"truncated entry", tiffWithOrientation(false, 6)[:20], 1},
	}
	for _, c := range cases {
		if got := tiffOrientation(c.tiff); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}

func TestJPEGOrientationSegments(t *testing.T) {
	app1 := append([]byte("Exif\x00\x00"), tiffWithOrientation(false, 6)...)
	seg := func(marker byte, payload []byte) []byte {
		n := len(payload) + 2
		return append([]byte{0xff, marker, byte(n >> 8), byte(n)}, payload...)
	}
	soi := []byte{0xff, 0xd8}
	join := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	cases := []struct {
		name string
		data []byte
		want int
	}{
		{"APP1 after APP0", join(soi, seg(0xe0, []byte("JFIF\x00")), seg(0xe1, app1)), 6},
		{"fill bytes before a marker", join(soi, []byte{0xff, 0xff}, seg(0xe1, app1)), 6},
		{"first Exif APP1 wins", join(soi, seg(0xe1, app1), seg(0xe1, append([]byte("Exif\x00\x00"), tiffWithOrientation(true, 3)...))), 6},
		{"XMP APP1 is skipped", join(soi, seg(0xe1, []byte("http://ns.adobe.com/xap/1.0/\x00")), seg(0xe1, app1)), 6},
		{"after SOS is ignored", join(soi, seg(0xda, []byte{0}), seg(0xe1, app1)), 1},
		{"segment longer than the file", join(soi, []byte{0xff, 0xe1, 0xff, 0xff}, app1), 1},
		{"garbage instead of a marker", join(soi, []byte{0x00, 0x01, 0x02, 0x03}), 1},
		{"no segments", soi, 1},
	}
	for _, c := range cases {
		if got := jpegOrientation(c.data); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}

// TestOrientTransforms checks each EXIF transform on a 3×2 image whose
// pixels are numbered 0..5 in stored order:
//
//	0 1 2
//	3 4 5
func TestOrientTransforms(t *testing.T) {
	src := NewImage(3, 2)
	for i := range 6 {
		src.Pix[3*i] = byte(i)
	}
	want := map[int][]byte{
		1: {0, 1, 2, 3, 4, 5},
		2: {2, 1, 0, 5, 4, 3},
		3: {5, 4, 3, 2, 1, 0},
		4: {3, 4, 5, 0, 1, 2},
		5: {0, 3, 1, 4, 2, 5},
		6: {3, 0, 4, 1, 5, 2},
		7: {5, 2, 4, 1, 3, 0},
		8: {2, 5, 1, 4, 0, 3},
	}
	for o, w := range want {
		out := orient(src, o)
		wantW, wantH := 3, 2
		if o >= 5 {
			wantW, wantH = 2, 3
		}
		if out.W != wantW || out.H != wantH {
			t.Errorf("orientation %d: %dx%d, want %dx%d", o, out.W, out.H, wantW, wantH)
			continue
		}
		for i, v := range w {
			if out.Pix[3*i] != v {
				t.Errorf("orientation %d: pixel %d is %d, want %d", o, i, out.Pix[3*i], v)
			}
		}
	}
	for _, o := range []int{0, 9, -1} {
		if orient(src, o) != src {
			t.Errorf("orientation %d changed the image", o)
		}
	}
}
