package vision

import (
	"encoding/binary"
	"errors"
	"math"
)

// ICC colour management for the two profile kinds that cameras, phones and
// editors embed in photos: matrix/TRC RGB profiles (Display P3, Adobe RGB,
// sRGB itself) and grey TRC profiles. The reference decoder (libvips, as
// sharp 0.35 calls it) converts every embedded profile to sRGB, so an image
// tagged Display P3 comes out tens of levels away from its stored values.
// LUT-based, CMYK, Lab and malformed profiles are left unconverted: for
// them the stored values are the best guess, and a bad profile must never
// fail a request.

// iccHeaderSize is the size of the fixed profile header, which the tag
// count follows.
const iccHeaderSize = 128

// iccMaxTags bounds the tag table so that a hostile count cannot make the
// parser loop for long. Real display profiles have about 10 to 20 tags.
const iccMaxTags = 256

var errICCUnsupported = errors.New("unsupported or malformed ICC profile")

// iccProfile is the part of a profile needed to convert it to sRGB with the
// relative colorimetric intent.
type iccProfile struct {
	gray bool
	// colorants holds rXYZ, gXYZ and bXYZ as the columns of the matrix
	// from linear RGB to the D50 profile connection space. The tags are
	// already adapted to D50 (the ICC specification requires it), so wtpt and chad are only
	// needed for absolute colorimetry and are not read.
	colorants [3][3]float64
	// trc holds rTRC, gTRC and bTRC, or kTRC three times for grey.
	trc [3]toneCurve
}

// toneCurve maps an encoded value in [0, 1] to a linear one.
type toneCurve func(float64) float64

// parseICC reads a matrix/TRC RGB or a grey TRC profile. Any other profile
// returns errICCUnsupported.
func parseICC(b []byte) (*iccProfile, error) {
	if len(b) < iccHeaderSize+4 {
		return nil, errICCUnsupported
	}
	if string(b[36:40]) != "acsp" || string(b[20:24]) != "XYZ " {
		return nil, errICCUnsupported
	}
	tags, err := iccTagTable(b)
	if err != nil {
		return nil, err
	}
	// A profile with an A2B table is converted through that table by
	// lcms, which this package does not implement, so the matrix tags that
	// may sit beside it would give different colours.
	if _, ok := tags["A2B0"]; ok {
		return nil, errICCUnsupported
	}
	switch string(b[16:20]) {
	case "RGB ":
		return parseMatrixTRC(tags)
	case "GRAY":
		return parseGrayTRC(tags)
	}
	return nil, errICCUnsupported
}

// iccTagTable returns each tag's data by signature. Tags whose data lie
// outside the profile make the whole profile unsupported.
func iccTagTable(b []byte) (map[string][]byte, error) {
	// Bytes past the declared size are padding, such as a JPEG writer's.
	if size := uint64(binary.BigEndian.Uint32(b)); size < uint64(len(b)) {
		if size < iccHeaderSize+4 {
			return nil, errICCUnsupported
		}
		b = b[:size]
	}
	n := binary.BigEndian.Uint32(b[iccHeaderSize:])
	if n > iccMaxTags || uint64(iccHeaderSize+4)+12*uint64(n) > uint64(len(b)) {
		return nil, errICCUnsupported
	}
	tags := make(map[string][]byte, n)
	for i := range int(n) {
		e := b[iccHeaderSize+4+12*i:][:12]
		off := uint64(binary.BigEndian.Uint32(e[4:]))
		size := uint64(binary.BigEndian.Uint32(e[8:]))
		if off+size > uint64(len(b)) || size < 8 {
			return nil, errICCUnsupported
		}
		tags[string(e[:4])] = b[off : off+size]
	}
	return tags, nil
}

func parseMatrixTRC(tags map[string][]byte) (*iccProfile, error) {
	p := &iccProfile{}
	for c, sig := range []string{"rXYZ", "gXYZ", "bXYZ"} {
		xyz, err := parseXYZ(tags[sig])
		if err != nil {
			return nil, err
		}
		for r := range 3 {
			p.colorants[r][c] = xyz[r]
		}
	}
	for c, sig := range []string{"rTRC", "gTRC", "bTRC"} {
		curve, err := parseCurve(tags[sig])
		if err != nil {
			return nil, err
		}
		p.trc[c] = curve
	}
	return p, nil
}

func parseGrayTRC(tags map[string][]byte) (*iccProfile, error) {
	curve, err := parseCurve(tags["kTRC"])
	if err != nil {
		return nil, err
	}
	return &iccProfile{gray: true, trc: [3]toneCurve{curve, curve, curve}}, nil
}

func s15Fixed16(b []byte) float64 {
	return float64(int32(binary.BigEndian.Uint32(b))) / 65536
}

// parseXYZ reads the first value of an XYZType tag.
func parseXYZ(b []byte) ([3]float64, error) {
	if len(b) < 20 || string(b[:4]) != "XYZ " {
		return [3]float64{}, errICCUnsupported
	}
	return [3]float64{s15Fixed16(b[8:]), s15Fixed16(b[12:]), s15Fixed16(b[16:])}, nil
}

// parseCurve reads a curveType or parametricCurveType tag.
func parseCurve(b []byte) (toneCurve, error) {
	if len(b) < 12 {
		return nil, errICCUnsupported
	}
	switch string(b[:4]) {
	case "curv":
		return parseCurv(b)
	case "para":
		return parsePara(b)
	}
	return nil, errICCUnsupported
}

// parseCurv reads a curveType: no entries is the identity, one entry is a
// u8Fixed8 gamma, more are a table sampled evenly over [0, 1] and
// interpolated linearly.
func parseCurv(b []byte) (toneCurve, error) {
	n := uint64(binary.BigEndian.Uint32(b[8:]))
	if 12+2*n > uint64(len(b)) {
		return nil, errICCUnsupported
	}
	switch n {
	case 0:
		return func(x float64) float64 { return x }, nil
	case 1:
		g := float64(binary.BigEndian.Uint16(b[12:])) / 256
		return func(x float64) float64 { return math.Pow(x, g) }, nil
	}
	table := make([]float64, n)
	for i := range table {
		table[i] = float64(binary.BigEndian.Uint16(b[12+2*i:])) / 65535
	}
	return func(x float64) float64 {
		pos := x * float64(len(table)-1)
		i := min(int(pos), len(table)-2)
		f := pos - float64(i)
		return table[i] + f*(table[i+1]-table[i])
	}, nil
}

// paraParamCounts is the number of parameters of each parametric function
// type of the ICC specification.
var paraParamCounts = [...]int{1, 3, 4, 5, 7}

// parsePara reads a parametricCurveType of function type 0 to 4.
// The parameters keep the specification's names g, a, b, c, d, e and f.
func parsePara(tag []byte) (toneCurve, error) {
	kind := int(binary.BigEndian.Uint16(tag[8:]))
	if kind >= len(paraParamCounts) || len(tag) < 12+4*paraParamCounts[kind] {
		return nil, errICCUnsupported
	}
	var v [7]float64
	for i := range paraParamCounts[kind] {
		v[i] = s15Fixed16(tag[12+4*i:])
	}
	g, a, b, c, d, e, f := v[0], v[1], v[2], v[3], v[4], v[5], v[6]
	pow := func(x float64) float64 { return math.Pow(max(a*x+b, 0), g) }
	switch kind {
	case 0:
		return func(x float64) float64 { return math.Pow(x, g) }, nil
	case 1:
		return func(x float64) float64 { return pow(x) * boolFloat(a*x+b >= 0) }, nil
	case 2:
		return func(x float64) float64 { return pow(x)*boolFloat(a*x+b >= 0) + c }, nil
	case 3:
		return func(x float64) float64 {
			if x >= d {
				return pow(x)
			}
			return c * x
		}, nil
	}
	return func(x float64) float64 {
		if x >= d {
			return pow(x) + e
		}
		return c*x + f
	}, nil
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
