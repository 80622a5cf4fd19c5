package vision

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/image/bmp"

	"github.com/yoloplane/yoloplane/internal/testshared"
)

// TestDecodeFaultCases covers every file in ../shared/cases/images with the
// outcome its README requires; a new file there fails until it is listed.
func TestDecodeFaultCases(t *testing.T) {
	type want struct {
		format Format
		w, h   int
		err    error
	}
	cases := map[string]want{
		"img_1280x721_halfpixel.jpg":          {format: FormatJPEG, w: 1280, h: 721},
		"img_1600x2128_oddpad.jpg":            {format: FormatJPEG, w: 1600, h: 2128},
		"img_3775x1571_padround.jpg":          {format: FormatJPEG, w: 3775, h: 1571},
		"img_exif_orient1.jpg":                {format: FormatJPEG, w: 480, h: 640},
		"img_exif_orient2.jpg":                {format: FormatJPEG, w: 480, h: 640},
		"img_exif_orient3.jpg":                {format: FormatJPEG, w: 480, h: 640},
		"img_exif_orient4.jpg":                {format: FormatJPEG, w: 480, h: 640},
		"img_exif_orient5.jpg":                {format: FormatJPEG, w: 480, h: 640},
		"img_exif_orient6.jpg":                {format: FormatJPEG, w: 480, h: 640},
		"img_exif_orient7.jpg":                {format: FormatJPEG, w: 480, h: 640},
		"img_exif_orient8.jpg":                {format: FormatJPEG, w: 480, h: 640},
		"img_jpeg_missing_eoi.jpg":            {format: FormatJPEG, w: 480, h: 640},
		"img_jpeg_named.png":                  {format: FormatJPEG, w: 480, h: 640},
		"img_png_named.jpg":                   {format: FormatPNG, w: 480, h: 640},
		"img_png_rgba_transparent_colour.png": {format: FormatPNG, w: 64, h: 48},
		"img_jpeg_truncated_half.jpg":         {err: ErrCorrupt},
		"img_zero_bytes.jpg":                  {err: ErrEmpty},
		"img_text_named.jpg":                  {err: ErrUnsupportedFormat},
		"img_pdf_named.jpg":                   {err: ErrUnsupportedFormat},
		"img_png_bomb_50000x50000.png":        {err: ErrTooLarge},
		"img_jpeg_sof_65000x65000.jpg":        {err: ErrTooLarge},
	}
	dir := testshared.Path(t, "cases", "images")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		w, ok := cases[name]
		if !ok {
			t.Errorf("%s: fixture has no expected outcome in this test", name)
			continue
		}
		delete(cases, name)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			img, f, err := Decode(data, DecodeOptions{})
			if w.err != nil {
				if !errors.Is(err, w.err) {
					t.Fatalf("Decode error = %v, want %v", err, w.err)
				}
				if img != nil {
					t.Errorf("Decode returned an image with error %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if f != w.format || img.W != w.w || img.H != w.h || len(img.Pix) != 3*w.w*w.h {
				t.Errorf("got %s %dx%d (%d bytes), want %s %dx%d", f, img.W, img.H, len(img.Pix), w.format, w.w, w.h)
			}
		})
	}
	for name := range cases {
		t.Errorf("%s: expected fixture is missing from %s", name, dir)
	}
}

// TestOrientationFixtures checks that all eight EXIF orientations give the
// README's reference scene, and that they agree with each other.
func TestOrientationFixtures(t *testing.T) {
	ref, _ := decodeFixture(t, "cases", "images", "img_exif_orient1.jpg")
	points := []struct {
		name string
		x, y int
		want [3]int
	}{
		{"red block top-left", 60, 80, [3]int{255, 0, 0}},
		{"green block top-right", 420, 80, [3]int{0, 255, 0}},
		{"blue block bottom-left", 60, 560, [3]int{0, 0, 255}},
		{"grey centre", 240, 320, [3]int{128, 128, 128}},
		{"grey bottom-right", 420, 560, [3]int{128, 128, 128}},
		{"grey below red", 60, 300, [3]int{128, 128, 128}},
		{"grey right of red", 240, 80, [3]int{128, 128, 128}},
	}
	for o := 1; o <= 8; o++ {
		name := "img_exif_orient" + string(rune('0'+o)) + ".jpg"
		img, _ := decodeFixture(t, "cases", "images", name)
		if img.W != 480 || img.H != 640 {
			t.Errorf("%s: %dx%d, want 480x640", name, img.W, img.H)
			continue
		}
		for _, p := range points {
			if got := pixel(img, p.x, p.y); !near(got, p.want, 8) {
				t.Errorf("%s: %s at (%d,%d) = %v, want %v", name, p.name, p.x, p.y, got, p.want)
			}
		}
		if d := meanAbsDiff(img, ref); d > 1 {
			t.Errorf("%s: mean difference from orientation 1 is %.2f levels", name, d)
		}
	}
}

func meanAbsDiff(a, b *Image) float64 {
	var sum int
	for i := range a.Pix {
		d := int(a.Pix[i]) - int(b.Pix[i])
		sum += max(d, -d)
	}
	return float64(sum) / float64(len(a.Pix))
}

// TestTransparentKeepsStoredColour: alpha is dropped without premultiplying.
func TestTransparentKeepsStoredColour(t *testing.T) {
	img, _ := decodeFixture(t, "cases", "images", "img_png_rgba_transparent_colour.png")
	for y := 0; y < img.H; y++ {
		for x := 0; x < img.W; x++ {
			want := [3]int{128, 128, 128}
			if x >= img.W/2 {
				want = [3]int{200, 30, 30}
			}
			if got := pixel(img, x, y); got != want {
				t.Fatalf("pixel (%d,%d) = %v, want %v", x, y, got, want)
			}
		}
	}
}

func TestRealImages(t *testing.T) {
	cases := []struct {
		file   string
		format Format
		w, h   int
	}{
		{"bus.jpg", FormatJPEG, 810, 1080},
		{"bus.png", FormatPNG, 810, 1080},
		{"bus.webp", FormatWebP, 810, 1080},
		{"bus_gray.jpg", FormatJPEG, 810, 1080},
		{"zidane.jpg", FormatJPEG, 1280, 720},
		{"zidane_rgba.png", FormatPNG, 640, 360},
		{"zidane_exif6.jpg", FormatJPEG, 1280, 720},
		{"Portrait_1.jpg", FormatJPEG, 1200, 1800},
		{"Portrait_6.jpg", FormatJPEG, 1200, 1800},
	}
	for _, c := range cases {
		img, f := decodeFixture(t, "images", c.file)
		if f != c.format || img.W != c.w || img.H != c.h {
			t.Errorf("%s: %s %dx%d, want %s %dx%d", c.file, f, img.W, img.H, c.format, c.w, c.h)
		}
	}
	gray, _ := decodeFixture(t, "images", "bus_gray.jpg")
	for i := 0; i < len(gray.Pix); i += 3 {
		if gray.Pix[i] != gray.Pix[i+1] || gray.Pix[i] != gray.Pix[i+2] {
			t.Fatalf("bus_gray.jpg: pixel %d is not grey: %v", i/3, gray.Pix[i:i+3])
		}
	}
}

// TestEXIFRotationOfRealPhotos: the rotated copies decode to the same
// picture as their upright originals.
func TestEXIFRotationOfRealPhotos(t *testing.T) {
	for _, pair := range [][2]string{{"zidane_exif6.jpg", "zidane.jpg"}, {"Portrait_6.jpg", "Portrait_1.jpg"}} {
		rotated, _ := decodeFixture(t, "images", pair[0])
		upright, _ := decodeFixture(t, "images", pair[1])
		if rotated.W != upright.W || rotated.H != upright.H {
			t.Errorf("%s is %dx%d, %s is %dx%d", pair[0], rotated.W, rotated.H, pair[1], upright.W, upright.H)
			continue
		}
		if d := meanAbsDiff(rotated, upright); d > 6 {
			t.Errorf("%s differs from %s by %.2f levels on average", pair[0], pair[1], d)
		}
	}
}

// TestBombsRefusedFromHeader: the two bombs are refused quickly and
// without allocating their pixel buffers (2.5 GB and 12.7 GB).
func TestBombsRefusedFromHeader(t *testing.T) {
	for _, name := range []string{"img_png_bomb_50000x50000.png", "img_jpeg_sof_65000x65000.jpg"} {
		data := testshared.Read(t, "cases", "images", name)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		_, _, err := Decode(data, DecodeOptions{})
		elapsed := time.Since(start)
		runtime.ReadMemStats(&after)
		if !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: error %v, want ErrTooLarge", name, err)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
			t.Errorf("%s: allocated %d MB while refusing it", name, alloc>>20)
		}
		if elapsed > 100*time.Millisecond {
			t.Errorf("%s: took %v to refuse", name, elapsed)
		}
		if !strings.Contains(err.Error(), "downscale") {
			t.Errorf("%s: message %q does not say what to do", name, err)
		}
	}
}

func TestMaxPixels(t *testing.T) {
	data := testshared.Read(t, "images", "bus.jpg") // 810×1080 = 874800 pixels
	if _, _, err := Decode(data, DecodeOptions{MaxPixels: 874799}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("one pixel over the limit: error %v, want ErrTooLarge", err)
	}
	if _, _, err := Decode(data, DecodeOptions{MaxPixels: 874800}); err != nil {
		t.Errorf("exactly at the limit: %v", err)
	}
}

func TestErrorMessages(t *testing.T) {
	cases := []struct {
		data []byte
		err  error
		says string
	}{
		{nil, ErrEmpty, "empty"},
		{[]byte("%PDF-1.7\n"), ErrUnsupportedFormat, "PDF"},
		{[]byte("hello, world\n"), ErrUnsupportedFormat, "text"},
		{[]byte("\x00\x00\x00\x1cftypheic\x00\x00\x00\x00"), ErrUnsupportedFormat, "HEIF"},
		{[]byte("II*\x00\x08\x00\x00\x00"), ErrUnsupportedFormat, "TIFF"},
		{[]byte("\xff\xd8\xff\xe0\x00"), ErrCorrupt, "corrupt"},
		{[]byte("\x89PNG\r\n\x1a\n\x00\x00"), ErrCorrupt, "corrupt"},
		{[]byte("GIF89a"), ErrCorrupt, "corrupt"},
		{[]byte("RIFF\x04\x00\x00\x00WEBP"), ErrCorrupt, "corrupt"},
	}
	for _, c := range cases {
		_, _, err := Decode(c.data, DecodeOptions{})
		if !errors.Is(err, c.err) {
			t.Errorf("%q: error %v, want %v", c.data, err, c.err)
			continue
		}
		if !strings.Contains(err.Error(), c.says) {
			t.Errorf("%q: message %q does not mention %q", c.data, err, c.says)
		}
		if c.err == ErrUnsupportedFormat && !strings.Contains(err.Error(), "send JPEG, PNG, WebP, GIF or BMP") {
			t.Errorf("%q: message %q does not list the formats", c.data, err)
		}
	}
}

// TestAnimatedWebPRefused builds the container of an animated WebP: the
// decision comes from the VP8X flag and the ANIM chunk, before any frame.
func TestAnimatedWebPRefused(t *testing.T) {
	vp8x := []byte{0x02, 0, 0, 0, 9, 0, 0, 9, 0, 0} // animation flag, 10×10
	anim := []byte{0, 0, 0, 0, 0, 0}                // background colour, loop count
	data := riff(chunk("VP8X", vp8x), chunk("ANIM", anim))
	_, _, err := Decode(data, DecodeOptions{})
	if !errors.Is(err, ErrAnimated) {
		t.Fatalf("error %v, want ErrAnimated", err)
	}
	if !strings.Contains(err.Error(), "single frame") {
		t.Errorf("message %q does not say what to send", err)
	}
}

func riff(chunks ...[]byte) []byte {
	body := append([]byte("WEBP"), bytes.Join(chunks, nil)...)
	return append(append([]byte("RIFF"), le32(len(body))...), body...)
}

func chunk(id string, payload []byte) []byte {
	c := append(append([]byte(id), le32(len(payload))...), payload...)
	if len(payload)%2 == 1 {
		c = append(c, 0)
	}
	return c
}

func le32(n int) []byte { return []byte{byte(n), byte(n >> 8), byte(n >> 16), byte(n >> 24)} }

// TestWebPEXIFOrientation wraps bus.webp's VP8 chunk in an extended
// container with an EXIF chunk saying "rotate 90° clockwise".
func TestWebPEXIFOrientation(t *testing.T) {
	simple := testshared.Read(t, "images", "bus.webp")
	if string(simple[12:16]) != "VP8 " {
		t.Fatalf("bus.webp starts with chunk %q, want a simple lossy file", simple[12:16])
	}
	w, h := 810, 1080
	vp8x := []byte{0x08, 0, 0, 0, byte(w - 1), byte((w - 1) >> 8), 0, byte(h - 1), byte((h - 1) >> 8), 0}
	data := riff(chunk("VP8X", vp8x), simple[12:], chunk("EXIF", tiffWithOrientation(false, 6)))
	rotated, _, err := Decode(data, DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	upright, _, err := Decode(simple, DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := orient(upright, 6); !bytes.Equal(rotated.Pix, want.Pix) || rotated.W != h {
		t.Errorf("EXIF orientation 6 in a WebP was not applied (got %dx%d)", rotated.W, rotated.H)
	}
}

// TestPNGEXIFOrientation inserts an eXIf chunk before the image data.
func TestPNGEXIFOrientation(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 3, 2))
	src.Pix[0], src.Pix[3] = 255, 255 // (0,0) red, opaque
	var buf bytes.Buffer
	if err := png.Encode(&buf, src); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	ihdrEnd := 8 + 8 + 13 + 4
	withExif := append(append(append([]byte{}, data[:ihdrEnd]...), pngChunk("eXIf", tiffWithOrientation(true, 8))...), data[ihdrEnd:]...)
	img, _, err := Decode(withExif, DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Orientation 8 turns the stored image 90° counter-clockwise for
	// display, so the stored top-left corner ends up bottom-left.
	if img.W != 2 || img.H != 3 || pixel(img, 0, 2) != [3]int{255, 0, 0} {
		t.Errorf("got %dx%d with bottom-left %v", img.W, img.H, pixel(img, 0, img.H-1))
	}
}

func pngChunk(typ string, payload []byte) []byte {
	var b bytes.Buffer
	b.Write([]byte{byte(len(payload) >> 24), byte(len(payload) >> 16), byte(len(payload) >> 8), byte(len(payload))})
	b.WriteString(typ)
	b.Write(payload)
	crc := crc32IEEE(append([]byte(typ), payload...))
	b.Write([]byte{byte(crc >> 24), byte(crc >> 16), byte(crc >> 8), byte(crc)})
	return b.Bytes()
}

// TestPNGVariants encodes the colour types image/png can write and checks
// the colour that comes back: 16-bit keeps the high byte, palettes with
// transparency keep their stored colour.
func TestPNGVariants(t *testing.T) {
	r := image.Rect(0, 0, 2, 1)
	gray16 := image.NewGray16(r)
	gray16.SetGray16(0, 0, color.Gray16{Y: 0xabff})
	nrgba64 := image.NewNRGBA64(r)
	nrgba64.SetNRGBA64(0, 0, color.NRGBA64{R: 0x12ff, G: 0x3400, B: 0xfe01, A: 0})
	rgba64 := image.NewRGBA64(r)
	rgba64.SetRGBA64(0, 0, color.RGBA64{R: 0x1200, G: 0x3480, B: 0xffff, A: 0xffff})
	pal := image.NewPaletted(r, color.Palette{color.NRGBA{10, 20, 30, 0}, color.NRGBA{40, 50, 60, 255}})
	gray := image.NewGray(r)
	gray.SetGray(0, 0, color.Gray{Y: 77})
	cases := []struct {
		name string
		img  image.Image
		want [3]int
	}{
		{"gray16", gray16, [3]int{0xab, 0xab, 0xab}},
		{"nrgba64 transparent", nrgba64, [3]int{0x12, 0x34, 0xfe}},
		{"rgba64 opaque", rgba64, [3]int{0x12, 0x34, 0xff}},
		{"paletted transparent", pal, [3]int{10, 20, 30}},
		{"gray", gray, [3]int{77, 77, 77}},
	}
	for _, c := range cases {
		var buf bytes.Buffer
		if err := png.Encode(&buf, c.img); err != nil {
			t.Fatal(err)
		}
		img, f, err := Decode(buf.Bytes(), DecodeOptions{})
		if err != nil || f != FormatPNG {
			t.Fatalf("%s: %s %v", c.name, f, err)
		}
		if got := pixel(img, 0, 0); got != c.want {
			t.Errorf("%s: pixel %v, want %v", c.name, got, c.want)
		}
	}
}

// TestGIFFirstFrameOnCanvas: a first frame smaller than the logical screen
// is drawn at its offset on black, and later frames are ignored.
func TestGIFFirstFrameOnCanvas(t *testing.T) {
	pal := color.Palette{color.RGBA{0, 0, 0, 255}, color.RGBA{200, 100, 50, 255}, color.RGBA{1, 2, 3, 255}}
	first := image.NewPaletted(image.Rect(2, 1, 4, 3), pal)
	for i := range first.Pix {
		first.Pix[i] = 1
	}
	second := image.NewPaletted(image.Rect(0, 0, 5, 4), pal)
	for i := range second.Pix {
		second.Pix[i] = 2
	}
	var buf bytes.Buffer
	err := gif.EncodeAll(&buf, &gif.GIF{
		Image: []*image.Paletted{first, second}, Delay: []int{10, 10},
		Config: image.Config{ColorModel: pal, Width: 5, Height: 4},
	})
	if err != nil {
		t.Fatal(err)
	}
	img, f, err := Decode(buf.Bytes(), DecodeOptions{})
	if err != nil || f != FormatGIF {
		t.Fatalf("%s %v", f, err)
	}
	if img.W != 5 || img.H != 4 {
		t.Fatalf("canvas %dx%d, want 5x4", img.W, img.H)
	}
	for y := range 4 {
		for x := range 5 {
			want := [3]int{}
			if x >= 2 && x < 4 && y >= 1 && y < 3 {
				want = [3]int{200, 100, 50}
			}
			if got := pixel(img, x, y); got != want {
				t.Errorf("(%d,%d) = %v, want %v", x, y, got, want)
			}
		}
	}
}

func TestBMP(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 3, 2))
	for i := range src.Pix {
		src.Pix[i] = byte(i * 9)
		if i%4 == 3 {
			src.Pix[i] = 255
		}
	}
	var buf bytes.Buffer
	if err := bmp.Encode(&buf, src); err != nil {
		t.Fatal(err)
	}
	img, f, err := Decode(buf.Bytes(), DecodeOptions{})
	if err != nil || f != FormatBMP {
		t.Fatalf("%s %v", f, err)
	}
	for i := range 6 {
		want := [3]int{int(src.Pix[4*i]), int(src.Pix[4*i+1]), int(src.Pix[4*i+2])}
		if got := pixel(img, i%3, i/3); got != want {
			t.Errorf("pixel %d = %v, want %v", i, got, want)
		}
	}
}

func TestCMYKConversion(t *testing.T) {
	m := image.NewCMYK(image.Rect(0, 0, 4, 1))
	copy(m.Pix, []byte{
		0, 0, 0, 0, // white
		0, 255, 255, 0, // red
		0, 0, 0, 255, // black
		128, 0, 0, 128, // half cyan on half black
	})
	img, err := toRGB(m, FormatJPEG)
	if err != nil {
		t.Fatal(err)
	}
	want := [][3]int{{255, 255, 255}, {255, 0, 0}, {0, 0, 0}, {63, 127, 127}} // 127·127/255 = 63.25
	for x, w := range want {
		if got := pixel(img, x, 0); got != w {
			t.Errorf("pixel %d = %v, want %v", x, got, w)
		}
	}
}

// TestDecodeReturnsOwnedPixels: the image must not alias the input.
func TestDecodeReturnsOwnedPixels(t *testing.T) {
	data := testshared.Read(t, "cases", "images", "img_png_rgba_transparent_colour.png")
	img, _, err := Decode(data, DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range data {
		data[i] = 0
	}
	if pixel(img, 63, 0) != [3]int{200, 30, 30} {
		t.Error("decoded pixels changed when the input was overwritten")
	}
}

// pngHeader returns a PNG signature and IHDR chunk declaring w×h pixels of
// 8-bit RGB, with a correct CRC, and no image data.
func pngHeader(w, h uint32) []byte {
	ihdr := make([]byte, 0, 17)
	ihdr = append(ihdr, "IHDR"...)
	ihdr = binary.BigEndian.AppendUint32(ihdr, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 2, 0, 0, 0)
	out := []byte("\x89PNG\r\n\x1a\n")
	out = binary.BigEndian.AppendUint32(out, 13)
	out = append(out, ihdr...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(ihdr))
}

func TestDecodePNGDimensionOverflow(t *testing.T) {
	_, _, err := Decode(pngHeader(1<<31-1, 1<<31-1), DecodeOptions{})
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("PNG header of 2^31-1 squared pixels: error %v, want ErrTooLarge", err)
	}
}
