package vision

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"io"
)

// iccMaxSize bounds an embedded profile. Matrix/TRC profiles are a few
// kilobytes; the largest LUT-based printer profiles are a few megabytes.
const iccMaxSize = 4 << 20

var jpegICCHeader = []byte("ICC_PROFILE\x00")

// jpegICCProfile joins the APP2 ICC_PROFILE chunks. Each chunk carries its
// 1-based sequence number and the chunk count, because a JPEG segment
// contains at most 65533 bytes. A missing, repeated or
// inconsistent chunk makes the profile absent.
func jpegICCProfile(data []byte) []byte {
	var chunks [][]byte
	ok := true
	walkJPEGSegments(data, func(marker byte, seg []byte) bool {
		if marker != 0xe2 || !bytes.HasPrefix(seg, jpegICCHeader) || len(seg) < len(jpegICCHeader)+2 {
			return true
		}
		seq, count := int(seg[len(jpegICCHeader)]), int(seg[len(jpegICCHeader)+1])
		if chunks == nil {
			chunks = make([][]byte, count)
		}
		if seq < 1 || seq > len(chunks) || count != len(chunks) || chunks[seq-1] != nil {
			ok = false
			return false
		}
		chunks[seq-1] = seg[len(jpegICCHeader)+2:]
		return true
	})
	if !ok || len(chunks) == 0 {
		return nil
	}
	if len(chunks) == 1 {
		return chunks[0]
	}
	var profile []byte
	for _, c := range chunks {
		if c == nil {
			return nil
		}
		profile = append(profile, c...)
	}
	return profile
}

// pngICCProfile inflates the iCCP chunk that comes before the image data:
// a profile name of 1 to 79 bytes, a NUL, compression method 0 (zlib) and
// the compressed profile.
func pngICCProfile(data []byte) []byte {
	i := len(pngSignature)
	for i+8 <= len(data) {
		n := uint64(binary.BigEndian.Uint32(data[i:]))
		typ := string(data[i+4 : i+8])
		if typ == "IDAT" || typ == "IEND" {
			return nil
		}
		end := uint64(i) + 8 + n
		if end > uint64(len(data)) {
			return nil
		}
		if typ == "iCCP" {
			return inflateICCP(data[i+8 : end])
		}
		i = int(end) + 4 // skip the CRC
	}
	return nil
}

func inflateICCP(chunk []byte) []byte {
	nul := bytes.IndexByte(chunk, 0)
	if nul < 1 || nul+2 > len(chunk) || chunk[nul+1] != 0 {
		return nil
	}
	r, err := zlib.NewReader(bytes.NewReader(chunk[nul+2:]))
	if err != nil {
		return nil
	}
	defer r.Close()
	profile, err := io.ReadAll(io.LimitReader(r, iccMaxSize+1))
	if err != nil || len(profile) > iccMaxSize {
		return nil
	}
	return profile
}
