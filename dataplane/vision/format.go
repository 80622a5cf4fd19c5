package vision

import (
	"bytes"
	"encoding/binary"
	"unicode/utf8"
)

// Format names a decoded container format as it appears in API responses.
type Format string

const (
	FormatJPEG Format = "jpeg"
	FormatPNG  Format = "png"
	FormatWebP Format = "webp"
	FormatGIF  Format = "gif"
	FormatBMP  Format = "bmp"
)

var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// sniff returns the format that data's leading bytes announce, or "" when
// they match none of the decodable formats.
func sniff(data []byte) Format {
	switch {
	case len(data) >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff:
		return FormatJPEG
	case bytes.HasPrefix(data, pngSignature):
		return FormatPNG
	case bytes.HasPrefix(data, []byte("GIF87a")) || bytes.HasPrefix(data, []byte("GIF89a")):
		return FormatGIF
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return FormatWebP
	case isBMP(data):
		return FormatBMP
	}
	return ""
}

// isBMP checks the DIB header size as well as the "BM" magic, so that a text
// file that happens to start with "BM" is reported as unsupported rather
// than as a corrupt bitmap.
func isBMP(data []byte) bool {
	if len(data) < 18 || data[0] != 'B' || data[1] != 'M' {
		return false
	}
	switch binary.LittleEndian.Uint32(data[14:18]) {
	case 12, 40, 52, 56, 64, 108, 124:
		return true
	}
	return false
}

// describeUnknown names what undecodable bytes look like, so that the error
// message shows a client which file it sent by mistake.
func describeUnknown(data []byte) string {
	head := data
	if len(head) > 64 {
		head = head[:64]
	}
	trimmed := bytes.TrimLeft(head, " \t\r\n\xef\xbb\xbf")
	switch {
	case bytes.HasPrefix(head, []byte("%PDF")):
		return "a PDF document"
	case bytes.HasPrefix(head, []byte("II*\x00")) || bytes.HasPrefix(head, []byte("MM\x00*")):
		return "TIFF, which is not supported"
	case len(head) >= 12 && string(head[4:8]) == "ftyp":
		return describeFtyp(string(head[8:12]))
	case bytes.HasPrefix(trimmed, []byte("<svg")) || bytes.HasPrefix(trimmed, []byte("<?xml")):
		return "SVG or XML, which is not supported"
	case bytes.HasPrefix(head, []byte("\x00\x00\x00\x0cjP  ")) || bytes.HasPrefix(head, []byte("\xff\x4f\xff\x51")):
		return "JPEG 2000, which is not supported"
	case bytes.HasPrefix(head, []byte("\xff\x0a")):
		return "JPEG XL, which is not supported"
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return "a ZIP archive"
	case isText(head):
		return "text"
	}
	return "unrecognised binary data"
}

func describeFtyp(brand string) string {
	switch brand {
	case "avif", "avis":
		return "AVIF, which is not supported"
	case "heic", "heix", "hevc", "hevx", "mif1", "msf1":
		return "HEIF/HEIC, which is not supported"
	}
	return "an ISO media file (MP4, MOV or HEIF)"
}

func isText(b []byte) bool {
	// Cut at most one incomplete rune at the end of the sample.
	for i := 0; i < utf8.UTFMax && len(b) > 0 && !utf8.Valid(b); i++ {
		b = b[:len(b)-1]
	}
	if len(b) == 0 || !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' {
			return false
		}
	}
	return true
}
