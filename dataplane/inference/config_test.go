package inference

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/yoloplane/yoloplane/dataplane/tensor"
)

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Errorf("DefaultConfig().Validate() = %v", err)
	}
	bad := []Config{
		{IntraOpThreads: 0, InterOpThreads: 1},
		{IntraOpThreads: 1, InterOpThreads: 0},
		{IntraOpThreads: -1, InterOpThreads: 1},
		{IntraOpThreads: maxThreads + 1, InterOpThreads: 1},
	}
	for _, c := range bad {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: Validate() = nil, want an error", c)
		}
	}
}

func TestCheckInputShape(t *testing.T) {
	dynamic := tensor.Info{Name: "images", Shape: []int64{-1, 3, -1, -1}}
	fixed := tensor.Info{Name: "images", Shape: []int64{1, 3, 320, 320}}
	tests := []struct {
		name  string
		info  tensor.Info
		shape []int64
		want  int
		ok    bool
	}{
		{"fixed match", fixed, []int64{1, 3, 320, 320}, 307200, true},
		{"fixed mismatch", fixed, []int64{1, 3, 320, 256}, 0, false},
		{"dynamic", dynamic, []int64{1, 3, 320, 256}, 245760, true},
		{"dynamic wrong channels", dynamic, []int64{1, 1, 320, 256}, 0, false},
		{"wrong rank", dynamic, []int64{3, 320, 256}, 0, false},
		{"zero axis", dynamic, []int64{1, 3, 0, 256}, 0, false},
		{"negative axis", dynamic, []int64{1, 3, -5, 256}, 0, false},
		{"overflow", dynamic, []int64{1 << 20, 3, 1 << 20, 1 << 20}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := checkInputShape(tt.info, tt.shape)
			if tt.ok != (err == nil) {
				t.Fatalf("checkInputShape(%v) error = %v, want ok=%v", tt.shape, err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidInput) {
				t.Errorf("error %v does not wrap ErrInvalidInput", err)
			}
			if got != tt.want {
				t.Errorf("checkInputShape(%v) = %d, want %d", tt.shape, got, tt.want)
			}
		})
	}
}

func TestDefaultInputShape(t *testing.T) {
	tests := []struct {
		name     string
		shape    []int64
		metadata map[string]string
		want     []int64
	}{
		{"fixed", []int64{1, 3, 320, 320}, map[string]string{"imgsz": "[640, 640]"}, []int64{1, 3, 320, 320}},
		{"dynamic no metadata", []int64{-1, 3, -1, -1}, nil, []int64{1, 3, 640, 640}},
		{"dynamic imgsz pair", []int64{-1, -1, -1, -1}, map[string]string{"imgsz": "[320, 256]"}, []int64{1, 3, 320, 256}},
		{"dynamic imgsz single", []int64{-1, 3, -1, -1}, map[string]string{"imgsz": "416"}, []int64{1, 3, 416, 416}},
		{"dynamic imgsz garbage", []int64{-1, 3, -1, -1}, map[string]string{"imgsz": "[a, b]"}, []int64{1, 3, 640, 640}},
		{"other rank", []int64{-1, -1}, nil, []int64{1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := defaultInputShape(tensor.Info{Shape: tt.shape}, tt.metadata)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("defaultInputShape (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseImageSize(t *testing.T) {
	tests := []struct {
		in   string
		h, w int64
	}{
		{"[640, 640]", 640, 640},
		{"[480,640]", 480, 640},
		{"320", 320, 320},
		{"", 640, 640},
		{"[1, 2, 3]", 640, 640},
		{"[0, 640]", 640, 640},
		{"[99999999, 640]", 640, 640},
	}
	for _, tt := range tests {
		h, w := parseImageSize(tt.in)
		if h != tt.h || w != tt.w {
			t.Errorf("parseImageSize(%q) = %d, %d, want %d, %d", tt.in, h, w, tt.h, tt.w)
		}
	}
}
