package postprocess

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/yoloplane/yoloplane/internal/testshared"
)

func TestParseNamesExamples(t *testing.T) {
	var file struct {
		Names []struct {
			MetadataValue string            `json:"metadata_value"`
			Expected      map[string]string `json:"expected"`
		} `json:"names"`
		OtherKeys map[string]string `json:"other_keys"`
	}
	if err := json.Unmarshal(testshared.Read(t, "cases", "metadata", "onnx_names_examples.json"), &file); err != nil {
		t.Fatalf("decode examples: %v", err)
	}
	if len(file.Names) == 0 {
		t.Fatal("no names examples")
	}
	for _, ex := range file.Names {
		want := map[int]string{}
		for k, v := range ex.Expected {
			id, err := strconv.Atoi(k)
			if err != nil {
				t.Fatalf("example key %q: %v", k, err)
			}
			want[id] = v
		}
		got, err := ParseNames(ex.MetadataValue)
		if err != nil {
			t.Errorf("ParseNames(%q): %v", ex.MetadataValue, err)
			continue
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ParseNames(%q) mismatch (-want +got):\n%s", ex.MetadataValue, diff)
		}
	}

	o := file.OtherKeys
	md, err := ParseMetadata(map[string]string{
		"imgsz": o["imgsz"], "stride": o["stride"], "task": o["task"],
		"end2end": o["end2end"], "batch": o["batch"], "half": o["half"],
	})
	if err != nil {
		t.Fatalf("ParseMetadata: %v", err)
	}
	want := Metadata{Task: TaskDetect, Stride: 32, Batch: 1, ImgSz: [2]int{640, 640},
		EndToEnd: true, HasEndToEnd: true, Ultralytics: true}
	if diff := cmp.Diff(want, md); diff != "" {
		t.Errorf("ParseMetadata mismatch (-want +got):\n%s", diff)
	}
	rect, err := ParseMetadata(map[string]string{"imgsz": o["imgsz_rect"]})
	if err != nil {
		t.Fatalf("ParseMetadata imgsz_rect: %v", err)
	}
	if rect.ImgSz != [2]int{384, 640} {
		t.Errorf("ImgSz = %v, want [384 640]", rect.ImgSz)
	}
}

func TestParseNames(t *testing.T) {
	tests := []struct {
		in      string
		want    map[int]string
		wantErr bool
	}{
		{`{0: 'a\\b', 1: 'it\'s', 2: "say \"x\""}`, map[int]string{0: `a\b`, 1: "it's", 2: `say "x"`}, false},
		{`{0: 'line\nbreak', 1: '\x41\u00e9\U0001F600', 2: '\101'}`, map[int]string{0: "line\nbreak", 1: "Aé😀", 2: "A"}, false},
		{"{\n  0: 'café',\n  1: '東京',\n}", map[int]string{0: "café", 1: "東京"}, false},
		{`{0: 'a: b, c', 1: '{x}'}`, map[int]string{0: "a: b, c", 1: "{x}"}, false},
		{`{"0": "person", "1": "bi\u0063ycle \ud83d\ude00"}`, map[int]string{0: "person", 1: "bicycle 😀"}, false},
		{`["person", 'car']`, map[int]string{0: "person", 1: "car"}, false},
		{`{}`, map[int]string{}, false},
		{`{0: 'a', 0: 'b'}`, map[int]string{0: "b"}, false},
		{`{0: 'unknown \d escape'}`, map[int]string{0: `unknown \d escape`}, false},
		{`{0: 'open`, nil, true},
		{`{0 'a'}`, nil, true},
		{`{0: 'a'} extra`, nil, true},
		{`{-1: 'a'}`, nil, true},
		{`{0: 1}`, nil, true},
		{`{'x': 'a'}`, nil, true},
		{`'person'`, nil, true},
		{`{0: 'bad \x4'}`, nil, true},
		{``, nil, true},
		{strings.Repeat("[", 100), nil, true},
	}
	for _, tt := range tests {
		got, err := ParseNames(tt.in)
		if tt.wantErr {
			if err == nil {
				t.Errorf("ParseNames(%q) = %v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseNames(%q): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseNames(%q) mismatch (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestParseMetadataArgs(t *testing.T) {
	md, err := ParseMetadata(map[string]string{
		"args":      "{'data': None, 'batch': 1, 'fraction': 1.0, 'half': True, 'dynamic': True, 'opset': None, 'nms': False}",
		"kpt_shape": "[17, 3]",
		"names":     "{0: 'person'}",
	})
	if err != nil {
		t.Fatalf("ParseMetadata: %v", err)
	}
	if !md.Half || !md.Dynamic || md.NMS {
		t.Errorf("Half, Dynamic, NMS = %v, %v, %v; want true, true, false", md.Half, md.Dynamic, md.NMS)
	}
	if md.KptShape != [2]int{17, 3} {
		t.Errorf("KptShape = %v, want [17 3]", md.KptShape)
	}
	if md.Ultralytics {
		t.Error("Ultralytics = true for metadata with only names and args, want false")
	}
	for key, value := range map[string]string{"stride": "x", "end2end": "maybe", "kpt_shape": "[17]", "names": "{0: }"} {
		if _, err := ParseMetadata(map[string]string{key: value}); err == nil {
			t.Errorf("ParseMetadata(%s=%q) succeeded, want an error", key, value)
		}
	}
}

// pyRepr writes s as Python's repr() would, close enough that parsing it
// must give s back.
func pyRepr(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		switch {
		case r == '\\' || r == '\'':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

func FuzzParseNames(f *testing.F) {
	for _, seed := range []string{
		"{0: 'person', 1: 'bicycle'}",
		`{0: "person's bag", 1: 'café', 2: 'a: b, c', 3: 'say "hi"'}`,
		`{"0": "a", "1": "b"}`, `["a", "b",]`, `{0: '\x41\u00e9'}`, `{0: '`, "{0: 'a',\n}",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		names, err := ParseNames(s)
		if err != nil {
			return
		}
		ids := make([]int, 0, len(names))
		for id := range names {
			if id < 0 || id >= maxClassID {
				t.Fatalf("ParseNames(%q) returned id %d outside [0, %d)", s, id, maxClassID)
			}
			ids = append(ids, id)
		}
		sort.Ints(ids)
		parts := make([]string, len(ids))
		for i, id := range ids {
			parts[i] = fmt.Sprintf("%d: %s", id, pyRepr(names[id]))
		}
		again, err := ParseNames("{" + strings.Join(parts, ", ") + "}")
		if err != nil {
			t.Fatalf("reparse of %q: %v", s, err)
		}
		if diff := cmp.Diff(names, again); diff != "" {
			t.Fatalf("round trip of %q mismatch (-first +second):\n%s", s, diff)
		}
	})
}
