package postprocess

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// maxClassID bounds class ids in names so that a hostile dict such as
// {999999999: 'x'} cannot make Inspect allocate a huge names slice.
const maxClassID = 1 << 16

// Metadata is the parsed form of the metadata_props that Ultralytics writes
// into an ONNX export. Absent keys leave their zero value; the Has fields
// tell an absent key from a zero value where that matters.
type Metadata struct {
	Description string
	Author      string
	Version     string // Ultralytics version that exported the model
	Task        Task   // empty when the key is absent
	Stride      int
	Batch       int
	ImgSz       [2]int // height, width; zero when absent
	Channels    int
	Names       map[int]string
	HasNames    bool
	EndToEnd    bool
	HasEndToEnd bool
	KptShape    [2]int // keypoints per object, values per keypoint
	Half        bool   // from the top-level "half" key, else from args
	Dynamic     bool   // from args
	NMS         bool   // from args: the export embeds NMS in the graph
	// Ultralytics reports whether it recognised the model at all: false for
	// YOLOv5 exports, which carry only stride and names.
	Ultralytics bool
}

// ParseMetadata parses the Ultralytics metadata keys that postprocessing
// uses. Unknown keys are ignored. An args value that is not a plain literal
// is ignored too, because it only refines defaults.
func ParseMetadata(meta map[string]string) (Metadata, error) {
	var md Metadata
	md.Description = meta["description"]
	md.Author = meta["author"]
	md.Version = meta["version"]
	md.Ultralytics = meta["author"] == "Ultralytics" || meta["task"] != "" || meta["imgsz"] != ""
	md.Task = Task(strings.TrimSpace(meta["task"]))

	var err error
	if md.Stride, err = intKey(meta, "stride"); err != nil {
		return Metadata{}, err
	}
	if md.Batch, err = intKey(meta, "batch"); err != nil {
		return Metadata{}, err
	}
	if md.Channels, err = intKey(meta, "channels"); err != nil {
		return Metadata{}, err
	}
	if md.ImgSz, err = pairKey(meta, "imgsz", true); err != nil {
		return Metadata{}, err
	}
	if md.KptShape, err = pairKey(meta, "kpt_shape", false); err != nil {
		return Metadata{}, err
	}
	if md.EndToEnd, md.HasEndToEnd, err = boolKey(meta, "end2end"); err != nil {
		return Metadata{}, err
	}
	if md.Half, _, err = boolKey(meta, "half"); err != nil {
		return Metadata{}, err
	}
	if s, ok := meta["names"]; ok {
		if md.Names, err = ParseNames(s); err != nil {
			return Metadata{}, fmt.Errorf("%w: names: %w", ErrInvalidMetadata, err)
		}
		md.HasNames = true
	}
	md.applyArgs(meta["args"])
	return md, nil
}

// applyArgs reads export flags from the args dict. A half key at the top
// level wins over args because it is the more specific source.
func (md *Metadata) applyArgs(s string) {
	v, err := parseLiteral(s)
	if err != nil {
		return
	}
	d, ok := v.(pyDict)
	if !ok {
		return
	}
	for _, it := range d {
		b, isBool := it.Value.(bool)
		if !isBool {
			continue
		}
		switch it.Key {
		case "half":
			md.Half = md.Half || b
		case "dynamic":
			md.Dynamic = b
		case "nms":
			md.NMS = b
		}
	}
}

func intKey(meta map[string]string, key string) (int, error) {
	s, ok := meta[key]
	if !ok {
		return 0, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%w: %s is %q, want a non-negative integer", ErrInvalidMetadata, key, s)
	}
	return n, nil
}

func boolKey(meta map[string]string, key string) (value, present bool, err error) {
	s, ok := meta[key]
	if !ok {
		return false, false, nil
	}
	switch strings.TrimSpace(s) {
	case "True", "true", "1":
		return true, true, nil
	case "False", "false", "0", "None":
		return false, true, nil
	}
	return false, false, fmt.Errorf("%w: %s is %q, want True or False", ErrInvalidMetadata, key, s)
}

// pairKey parses "[a, b]" or "(a, b)". Ultralytics also writes a single
// integer for a square image size, which square expands to [n, n].
func pairKey(meta map[string]string, key string, square bool) ([2]int, error) {
	s, ok := meta[key]
	if !ok {
		return [2]int{}, nil
	}
	bad := fmt.Errorf("%w: %s is %q, want a list of two non-negative integers", ErrInvalidMetadata, key, s)
	v, err := parseLiteral(s)
	if err != nil {
		return [2]int{}, bad
	}
	if n, isInt := v.(int64); isInt && square && n >= 0 && n <= math.MaxInt32 {
		return [2]int{int(n), int(n)}, nil
	}
	list, ok := v.([]any)
	if !ok || len(list) != 2 {
		return [2]int{}, bad
	}
	var out [2]int
	for i, e := range list {
		n, isInt := e.(int64)
		if !isInt || n < 0 || n > math.MaxInt32 {
			return [2]int{}, bad
		}
		out[i] = int(n)
	}
	return out, nil
}

// ParseNames parses the names metadata value: a Python dict literal such
// as {0: 'person', 1: "person's bag"}, a JSON object with integer keys
// written as strings, or a list whose positions are the class ids.
func ParseNames(s string) (map[int]string, error) {
	v, err := parseLiteral(s)
	if err != nil {
		return nil, err
	}
	switch t := v.(type) {
	case pyDict:
		return namesFromDict(t)
	case []any:
		return namesFromList(t)
	}
	return nil, fmt.Errorf("names is a %s, want a dict or a list", literalKind(v))
}

func namesFromDict(d pyDict) (map[int]string, error) {
	names := make(map[int]string, len(d))
	for _, it := range d {
		id, err := classID(it.Key)
		if err != nil {
			return nil, err
		}
		name, ok := it.Value.(string)
		if !ok {
			return nil, fmt.Errorf("name of class %d is a %s, want a string", id, literalKind(it.Value))
		}
		names[id] = name
	}
	return names, nil
}

func namesFromList(list []any) (map[int]string, error) {
	if len(list) > maxClassID {
		return nil, fmt.Errorf("names has %d entries, more than the maximum %d", len(list), maxClassID)
	}
	names := make(map[int]string, len(list))
	for i, v := range list {
		name, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("name of class %d is a %s, want a string", i, literalKind(v))
		}
		names[i] = name
	}
	return names, nil
}

// classID accepts an integer key, or a string of decimal digits as JSON
// objects write it.
func classID(key any) (int, error) {
	var id int64
	switch k := key.(type) {
	case int64:
		id = k
	case string:
		n, err := strconv.ParseInt(k, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("class id %q is not an integer", k)
		}
		id = n
	default:
		return 0, fmt.Errorf("class id is a %s, want an integer", literalKind(key))
	}
	if id < 0 || id >= maxClassID {
		return 0, fmt.Errorf("class id %d is outside [0, %d)", id, maxClassID)
	}
	return int(id), nil
}

func literalKind(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case int64:
		return "integer"
	case float64:
		return "float"
	case bool:
		return "boolean"
	case nil:
		return "None"
	case []any:
		return "list"
	case pyDict:
		return "dict"
	}
	return fmt.Sprintf("%T", v)
}
