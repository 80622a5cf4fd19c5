package vision

import (
	"bytes"
	"encoding/binary"
)

// EXIF orientation, read from the TIFF structure directly. Every read is
// bounds-checked: a missing, garbled or out-of-range orientation counts as 1
// (upright) and is never an error, because the pixels are still usable.

const exifOrientationTag = 0x0112

var exifHeader = []byte("Exif\x00\x00")

// tiffOrientation returns the Orientation tag (1..8) of IFD0 in a TIFF
// blob, or 1 when there is none or it is invalid.
func tiffOrientation(tiff []byte) int {
	if len(tiff) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(tiff[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	if bo.Uint16(tiff[2:]) != 42 {
		return 1
	}
	ifd := uint64(bo.Uint32(tiff[4:]))
	if ifd < 8 || ifd+2 > uint64(len(tiff)) {
		return 1
	}
	n := uint64(bo.Uint16(tiff[ifd:]))
	for i := uint64(0); i < n; i++ {
		off := ifd + 2 + 12*i
		if off+12 > uint64(len(tiff)) {
			break
		}
		e := tiff[off : off+12]
		if bo.Uint16(e) != exifOrientationTag {
			continue
		}
		return orientationValue(bo, e)
	}
	return 1
}

// orientationValue reads the value of a 12-byte IFD entry. The tag is a
// SHORT; LONG and BYTE, which some writers use, are accepted too.
func orientationValue(bo binary.ByteOrder, e []byte) int {
	if bo.Uint32(e[4:]) < 1 {
		return 1
	}
	var v uint32
	switch bo.Uint16(e[2:]) {
	case 3: // SHORT
		v = uint32(bo.Uint16(e[8:]))
	case 4: // LONG
		v = bo.Uint32(e[8:])
	case 1: // BYTE
		v = uint32(e[8])
	default:
		return 1
	}
	if v < 1 || v > 8 {
		return 1
	}
	return int(v)
}

// exifPayloadOrientation reads an EXIF payload that may or may not start
// with the "Exif\0\0" preamble (JPEG APP1 has it; WebP and PNG writers
// differ).
func exifPayloadOrientation(b []byte) int {
	return tiffOrientation(bytes.TrimPrefix(b, exifHeader))
}

// jpegOrientation reads the orientation from the first APP1 segment that
// holds EXIF.
func jpegOrientation(data []byte) int {
	o := 1
	walkJPEGSegments(data, func(marker byte, seg []byte) bool {
		if marker == 0xe1 && bytes.HasPrefix(seg, exifHeader) {
			o = tiffOrientation(seg[len(exifHeader):])
			return false
		}
		return true
	})
	return o
}

// walkJPEGSegments calls visit with the marker and payload of each marker
// segment before the first scan, until visit returns false. It stops
// quietly at anything malformed.
func walkJPEGSegments(data []byte, visit func(marker byte, seg []byte) bool) {
	i := 2 // after SOI
	for i+4 <= len(data) {
		if data[i] != 0xff {
			return
		}
		marker := data[i+1]
		switch {
		case marker == 0xff: // fill byte
			i++
			continue
		case marker == 0xd8 || marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7):
			i += 2 // markers without a length
			continue
		case marker == 0xda || marker == 0xd9: // SOS, EOI: no metadata after
			return
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			return
		}
		if !visit(marker, data[i+4:i+2+n]) {
			return
		}
		i += 2 + n
	}
}

// pngOrientation reads an eXIf chunk that comes before the image data.
func pngOrientation(data []byte) int {
	i := len(pngSignature)
	for i+8 <= len(data) {
		n := uint64(binary.BigEndian.Uint32(data[i:]))
		typ := string(data[i+4 : i+8])
		if typ == "IDAT" || typ == "IEND" {
			return 1
		}
		end := uint64(i) + 8 + n
		if end > uint64(len(data)) {
			return 1
		}
		if typ == "eXIf" {
			return exifPayloadOrientation(data[i+8 : end])
		}
		i = int(end) + 4 // skip the CRC
	}
	return 1
}

// webpInfo is what the RIFF container says before any pixel is decoded.
type webpInfo struct {
	animated    bool
	orientation int
	iccProfile  []byte // the ICCP chunk, aliasing the input
}

// scanWebP walks the RIFF chunks. Malformed containers are left for
// x/image/webp to reject; scanWebP only stops early.
func scanWebP(data []byte) webpInfo {
	const animationFlag = 1 << 1
	info := webpInfo{orientation: 1}
	i := 12
	for i+8 <= len(data) {
		id := string(data[i : i+4])
		n := uint64(binary.LittleEndian.Uint32(data[i+4:]))
		end := uint64(i) + 8 + n
		if end > uint64(len(data)) {
			end = uint64(len(data))
		}
		payload := data[i+8 : end]
		switch id {
		case "VP8X":
			if len(payload) > 0 && payload[0]&animationFlag != 0 {
				info.animated = true
			}
		case "ANIM", "ANMF":
			info.animated = true
		case "EXIF":
			info.orientation = exifPayloadOrientation(payload)
		case "ICCP":
			info.iccProfile = payload
		}
		i = int(end + end&1) // chunks are padded to an even length
	}
	return info
}
