package vision

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"testing"

	"github.com/yoloplane/yoloplane/internal/testshared"
)

func fixtureICCProfile(t testing.TB, name string) []byte {
	t.Helper()
	profile := jpegICCProfile(testshared.Read(t, "images", name))
	if profile == nil {
		t.Fatalf("%s: no ICC profile found", name)
	}
	return profile
}

// TestDisplayP3MatchesLCMS compares single colours with what sharp 0.35.6
// (lcms 2.20) gives for the same stored values of bus.jpg.
func TestDisplayP3MatchesLCMS(t *testing.T) {
	p, err := parseICC(fixtureICCProfile(t, "bus.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	tr := newColourTransform(p)
	if tr == nil {
		t.Fatal("Display P3 profile treated as sRGB")
	}
	cases := []struct{ in, want [3]uint8 }{
		{[3]uint8{172, 148, 122}, [3]uint8{177, 147, 118}},
		{[3]uint8{209, 192, 164}, [3]uint8{213, 191, 160}},
		{[3]uint8{197, 172, 131}, [3]uint8{202, 171, 125}},
		{[3]uint8{83, 103, 128}, [3]uint8{78, 104, 130}},
		{[3]uint8{190, 167, 133}, [3]uint8{195, 166, 128}},
		{[3]uint8{255, 0, 0}, [3]uint8{255, 0, 0}},
		{[3]uint8{128, 128, 128}, [3]uint8{128, 128, 128}},
	}
	for _, c := range cases {
		var got [3]uint8
		tr.pixel(got[:], c.in[0], c.in[1], c.in[2])
		if !near(toInts(got), toInts(c.want), 1) {
			t.Errorf("%v: got %v, want %v", c.in, got, c.want)
		}
	}
}

func toInts(v [3]uint8) [3]int { return [3]int{int(v[0]), int(v[1]), int(v[2])} }

func TestSRGBProfileSkipped(t *testing.T) {
	p, err := parseICC(fixtureICCProfile(t, "zidane_exif6.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	if newColourTransform(p) != nil {
		t.Error("lcms sRGB profile builds a transform, want none")
	}
}

// grayProfile builds a minimal grey profile whose kTRC is curv.
func grayProfile(curv []byte) []byte {
	b := make([]byte, iccHeaderSize+4+12)
	copy(b[16:], "GRAY")
	copy(b[20:], "XYZ ")
	copy(b[36:], "acsp")
	binary.BigEndian.PutUint32(b[iccHeaderSize:], 1)
	e := b[iccHeaderSize+4:]
	copy(e, "kTRC")
	binary.BigEndian.PutUint32(e[4:], uint32(len(b)))
	binary.BigEndian.PutUint32(e[8:], uint32(len(curv)))
	b = append(b, curv...)
	binary.BigEndian.PutUint32(b, uint32(len(b)))
	return b
}

func TestGrayProfile(t *testing.T) {
	linear := []byte("curv\x00\x00\x00\x00\x00\x00\x00\x00") // no entries: identity
	p, err := parseICC(grayProfile(linear))
	if err != nil {
		t.Fatal(err)
	}
	tr := newColourTransform(p)
	if tr == nil {
		t.Fatal("linear grey profile treated as sRGB")
	}
	// Linear 64/255 = 0.251 is 0.537 in sRGB, level 137.
	if got := tr.grayLUT[64]; got < 136 || got > 138 {
		t.Errorf("linear grey 64 → %d, want 137", got)
	}
	gamma := []byte("curv\x00\x00\x00\x00\x00\x00\x00\x01\x02\x33") // gamma 2.2
	p, err = parseICC(grayProfile(gamma))
	if err != nil {
		t.Fatal(err)
	}
	if tr := newColourTransform(p); tr == nil || tr.grayLUT[32] == 32 {
		t.Error("gamma 2.2 grey profile left unconverted")
	}
}

func TestParseICCRejects(t *testing.T) {
	p3 := fixtureICCProfile(t, "bus.jpg")
	cmyk := bytes.Clone(p3)
	copy(cmyk[16:], "CMYK")
	cut := bytes.Clone(p3[:300])
	cases := map[string][]byte{"empty": nil, "CMYK": cmyk, "truncated": cut, "header only": p3[:iccHeaderSize]}
	for name, b := range cases {
		if _, err := parseICC(b); err == nil {
			t.Errorf("%s: parsed, want an error", name)
		}
	}
}

// jpegWithICCChunks replaces the APP2 ICC segment of a JPEG with the
// profile split into the given chunks, in the given order.
func jpegWithICCChunks(t *testing.T, data, profile []byte, order []int) []byte {
	t.Helper()
	i := bytes.Index(data, jpegICCHeader) - 4
	n := int(binary.BigEndian.Uint16(data[i+2:]))
	rest := data[i+2+n:]
	half := len(profile) / 2
	parts := [][]byte{profile[:half], profile[half:]}
	out := bytes.Clone(data[:i])
	for _, k := range order {
		seg := append(append(bytes.Clone(jpegICCHeader), byte(k+1), byte(len(parts))), parts[k]...)
		out = append(out, 0xff, 0xe2, byte((len(seg)+2)>>8), byte(len(seg)+2))
		out = append(out, seg...)
	}
	return append(out, rest...)
}

func TestJPEGICCChunks(t *testing.T) {
	data := testshared.Read(t, "images", "bus.jpg")
	profile := fixtureICCProfile(t, "bus.jpg")
	want, _, err := Decode(data, DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, order := range [][]int{{0, 1}, {1, 0}} {
		split := jpegWithICCChunks(t, data, profile, order)
		if got := jpegICCProfile(split); !bytes.Equal(got, profile) {
			t.Errorf("chunks in order %v: joined profile differs (%d bytes)", order, len(got))
		}
		img, _, err := Decode(split, DecodeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(img.Pix, want.Pix) {
			t.Errorf("chunks in order %v: pixels differ from the single-chunk file", order)
		}
	}
	if got := jpegICCProfile(jpegWithICCChunks(t, data, profile, []int{1})); got != nil {
		t.Error("missing first chunk: profile returned, want none")
	}
}

// pngWithICCP inserts an iCCP chunk after IHDR.
func pngWithICCP(t *testing.T, data, profile []byte) []byte {
	t.Helper()
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	w.Write(profile)
	w.Close()
	body := append([]byte("iCCP"), append([]byte("P3\x00\x00"), z.Bytes()...)...)
	chunk := binary.BigEndian.AppendUint32(nil, uint32(len(body)-4))
	chunk = append(chunk, body...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(body))
	ihdrEnd := len(pngSignature) + 8 + 13 + 4
	return append(append(bytes.Clone(data[:ihdrEnd]), chunk...), data[ihdrEnd:]...)
}

func TestPNGICCProfile(t *testing.T) {
	data := testshared.Read(t, "images", "bus.png")
	profile := fixtureICCProfile(t, "bus.jpg")
	tagged := pngWithICCP(t, data, profile)
	if got := pngICCProfile(tagged); !bytes.Equal(got, profile) {
		t.Fatalf("iCCP profile not read back (%d bytes)", len(got))
	}
	img, _, err := Decode(tagged, DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := decodeFixture(t, "images", "bus.png")
	p, err := parseICC(profile)
	if err != nil {
		t.Fatal(err)
	}
	newColourTransform(p).apply(want)
	if !bytes.Equal(img.Pix, want.Pix) {
		t.Error("PNG with a Display P3 iCCP chunk was not converted to sRGB")
	}
}

// FuzzParseICC feeds arbitrary profiles to the parser and, when one parses,
// builds and applies its transform. Nothing may panic.
func FuzzParseICC(f *testing.F) {
	for _, name := range []string{"bus.jpg", "food_samosa.jpg", "zidane_exif6.jpg"} {
		f.Add(fixtureICCProfile(f, name))
	}
	f.Add(grayProfile([]byte("curv\x00\x00\x00\x00\x00\x00\x00\x01\x02\x33")))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := parseICC(b)
		if err != nil {
			return
		}
		if tr := newColourTransform(p); tr != nil {
			tr.apply(synthImage(4, 4, 1))
		}
	})
}
