package gossip

import (
	"errors"
	"log/slog"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/memberlist"
)

func validConfig() Config {
	cfg := DefaultConfig()
	cfg.NodeName = "node-a"
	cfg.BindAddr = "127.0.0.1:0"
	cfg.HTTPAddr = "127.0.0.1:8080"
	return cfg
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name     string
		change   func(*Config)
		wantText string
		wantErr  error
	}{
		{"valid", func(*Config) {}, "", nil},
		{"missing name", func(c *Config) { c.NodeName = "" }, "node name", nil},
		{"unknown region", func(c *Config) { c.Region = "mars-north1" }, `"mars-north1"`, nil},
		{"bind without port", func(c *Config) { c.BindAddr = "127.0.0.1" }, "bind address", nil},
		{"bind port too large", func(c *Config) { c.BindAddr = "127.0.0.1:70000" }, "65535", nil},
		{"bad advertise", func(c *Config) { c.AdvertiseAddr = "nowhere" }, "advertise address", nil},
		{"missing HTTP address", func(c *Config) { c.HTTPAddr = "" }, "HTTP address", nil},
		{"zero capacity", func(c *Config) { c.Capacity = 0 }, "capacity 0", nil},
		{"bad join", func(c *Config) { c.Join = []string{"127.0.0.1:1", "seed"} }, `"seed"`, nil},
		{"zero probe interval", func(c *Config) { c.ProbeInterval = 0 }, "probe interval", nil},
		{"probe timeout too long", func(c *Config) { c.ProbeTimeout = c.ProbeInterval }, "probe timeout", nil},
		{"zero suspicion", func(c *Config) { c.SuspicionMult = 0 }, "suspicion", nil},
		{"zero event buffer", func(c *Config) { c.EventBuffer = 0 }, "event buffer", nil},
		{"metadata too large", func(c *Config) { c.HTTPAddr = strings.Repeat("h", 500) + ":80" }, "512", ErrMetaTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := validConfig()
			tt.change(&cfg)
			err := cfg.Validate()
			if tt.wantText == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want an error mentioning %s", tt.wantText)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("Validate() = %q, want it to mention %s", err, tt.wantText)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Validate() = %v, want errors.Is %v", err, tt.wantErr)
			}
		})
	}
}

func TestMetaRoundTrip(t *testing.T) {
	tests := []nodeMeta{
		{Region: "us-central1", HTTPAddr: "10.0.0.1:8080", Capacity: 8, Load: 0.25, ModelsVersion: 7},
		{Region: "europe-west3", HTTPAddr: "[::1]:443", Capacity: 1},
		{Region: "asia-south1", HTTPAddr: "a:1", Capacity: math.MaxInt32, Load: math.MaxFloat64, ModelsVersion: math.MaxUint64},
	}
	for _, want := range tests {
		b, err := encodeMeta(want)
		if err != nil {
			t.Fatalf("encodeMeta(%+v): %v", want, err)
		}
		got, err := decodeMeta(b)
		if err != nil {
			t.Fatalf("decodeMeta: %v", err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
	}
}

func TestMetaSizeLimit(t *testing.T) {
	base := nodeMeta{Region: "us-central1", Capacity: 4}
	empty, err := encodeMeta(base)
	if err != nil {
		t.Fatal(err)
	}
	// Each byte of HTTPAddr adds one byte to the encoding.
	fits := base
	fits.HTTPAddr = strings.Repeat("a", memberlist.MetaMaxSize-len(empty))
	b, err := encodeMeta(fits)
	if err != nil {
		t.Fatalf("metadata of exactly %d bytes: %v", memberlist.MetaMaxSize, err)
	}
	if len(b) != memberlist.MetaMaxSize {
		t.Fatalf("encoded %d bytes, want %d", len(b), memberlist.MetaMaxSize)
	}

	over := fits
	over.HTTPAddr += "a"
	if _, err := encodeMeta(over); !errors.Is(err, ErrMetaTooLarge) {
		t.Errorf("metadata of %d bytes: error %v, want ErrMetaTooLarge", memberlist.MetaMaxSize+1, err)
	}
}

func TestMetaDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"unknown format", []byte{9, '{', '}'}},
		{"bad json", []byte{metaFormat, '{'}},
	}
	for _, tt := range tests {
		if _, err := decodeMeta(tt.in); err == nil {
			t.Errorf("%s: decodeMeta returned no error", tt.name)
		}
	}
}

func TestValidateModels(t *testing.T) {
	tests := []struct {
		name    string
		models  map[string]ModelState
		wantErr bool
	}{
		{"nil", nil, false},
		{"all states", map[string]ModelState{"a": ModelWarming, "b": ModelReady, "c": ModelFailed}, false},
		{"empty ID", map[string]ModelState{"": ModelReady}, true},
		{"long ID", map[string]ModelState{strings.Repeat("m", maxModelIDLen+1): ModelReady}, true},
		{"unknown state", map[string]ModelState{"a": "loaded"}, true},
	}
	for _, tt := range tests {
		if err := validateModels(tt.models); (err != nil) != tt.wantErr {
			t.Errorf("%s: validateModels = %v, want error %v", tt.name, err, tt.wantErr)
		}
	}
}

func TestModelSetNewer(t *testing.T) {
	tests := []struct {
		name     string
		set, old modelSet
		want     bool
	}{
		{"higher version", modelSet{Epoch: 1, Version: 3}, modelSet{Epoch: 1, Version: 2}, true},
		{"same version", modelSet{Epoch: 1, Version: 2}, modelSet{Epoch: 1, Version: 2}, false},
		{"lower version", modelSet{Epoch: 1, Version: 1}, modelSet{Epoch: 1, Version: 2}, false},
		{"restart resets version", modelSet{Epoch: 2, Version: 0}, modelSet{Epoch: 1, Version: 9}, true},
		{"older run", modelSet{Epoch: 1, Version: 9}, modelSet{Epoch: 2, Version: 0}, false},
	}
	for _, tt := range tests {
		if got := tt.set.newerThan(tt.old); got != tt.want {
			t.Errorf("%s: newerThan = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestMessageRoundTrip(t *testing.T) {
	want := modelSet{Node: "n1", Epoch: 5, Version: 2, Models: map[string]ModelState{"m": ModelReady}}
	got, err := decodeModelSetMsg(encodeModelSetMsg(want))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("message round trip (-want +got):\n%s", diff)
	}

	sets, err := decodeState(encodeState([]modelSet{want}))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]modelSet{want}, sets); diff != "" {
		t.Errorf("state round trip (-want +got):\n%s", diff)
	}

	for _, bad := range [][]byte{nil, {msgModelSet}, {msgModelSet, '{', '}'}, {7, '{', '}'}} {
		if _, err := decodeModelSetMsg(bad); err == nil {
			t.Errorf("decodeModelSetMsg(%q) returned no error", bad)
		}
	}
	if _, err := decodeState([]byte{9}); err == nil {
		t.Error("decodeState with an unknown format returned no error")
	}
}

func TestCheckPeerRegion(t *testing.T) {
	p := newPool(validConfig())
	tests := []struct {
		name    string
		meta    nodeMeta
		raw     []byte
		wantErr bool
	}{
		{"same region", nodeMeta{Region: "us-central1", HTTPAddr: "h:1", Capacity: 1}, nil, false},
		{"other region", nodeMeta{Region: "europe-west3", HTTPAddr: "h:1", Capacity: 1}, nil, true},
		{"undecodable", nodeMeta{}, []byte("garbage"), true},
	}
	for _, tt := range tests {
		raw := tt.raw
		if raw == nil {
			var err error
			if raw, err = encodeMeta(tt.meta); err != nil {
				t.Fatal(err)
			}
		}
		node := &memberlist.Node{Name: "peer", Meta: raw}
		d := delegate{p: p}
		if err := d.NotifyAlive(node); (err != nil) != tt.wantErr {
			t.Errorf("%s: NotifyAlive = %v, want error %v", tt.name, err, tt.wantErr)
		}
		if err := d.NotifyMerge([]*memberlist.Node{node}); (err != nil) != tt.wantErr {
			t.Errorf("%s: NotifyMerge = %v, want error %v", tt.name, err, tt.wantErr)
		}
	}
}

func TestSubscribeDrops(t *testing.T) {
	cfg := validConfig()
	cfg.EventBuffer = 1
	p := newPool(cfg)
	ch := p.Subscribe()
	for range 3 {
		p.emit(Event{Type: EventUpdate})
	}
	if got := p.DroppedEvents(); got != 2 {
		t.Errorf("DroppedEvents = %d, want 2", got)
	}
	if got := len(ch); got != 1 {
		t.Errorf("buffered events = %d, want 1", got)
	}

	p.closeSubscribers()
	if _, ok := <-p.Subscribe(); ok {
		t.Error("Subscribe after close returned an open channel")
	}
}

func TestSplitLevel(t *testing.T) {
	tests := []struct {
		line       string
		wantLevel  slog.Level
		wantDetail string
	}{
		{"[DEBUG] memberlist: Stream connection from=127.0.0.1:5", slog.LevelDebug, "Stream connection from=127.0.0.1:5"},
		{"[WARN] memberlist: Refuting a suspect message", slog.LevelWarn, "Refuting a suspect message"},
		{"[ERR] memberlist: Failed to send", slog.LevelError, "Failed to send"},
		{"[INFO] memberlist: Marking n as failed", slog.LevelInfo, "Marking n as failed"},
		{"no prefix", slog.LevelInfo, "no prefix"},
	}
	for _, tt := range tests {
		level, detail := splitLevel(tt.line)
		if level != tt.wantLevel || detail != tt.wantDetail {
			t.Errorf("splitLevel(%q) = %v, %q; want %v, %q", tt.line, level, detail, tt.wantLevel, tt.wantDetail)
		}
	}
}
