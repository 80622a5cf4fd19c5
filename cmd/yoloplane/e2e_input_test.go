package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/yoloplane/yoloplane/internal/testshared"
)

// checkErrorBody asserts the contract's error body: exactly {"error": msg}
// with an X-Error-Code header, and msg containing want.
func checkErrorBody(t *testing.T, name string, r response, want string) {
	t.Helper()
	var body map[string]any
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Errorf("%s: error body is not JSON: %v: %s", name, err, r.body)
		return
	}
	msg, ok := body["error"].(string)
	if !ok || len(body) != 1 {
		t.Errorf("%s: error body = %s, want exactly {\"error\": ...}", name, r.body)
		return
	}
	if !strings.Contains(strings.ToLower(msg), want) {
		t.Errorf("%s: error %q does not mention %q", name, msg, want)
	}
	if r.header.Get("X-Error-Code") == "" {
		t.Errorf("%s: missing X-Error-Code header", name)
	}
}

func TestServeFaultInputs(t *testing.T) {
	model := testshared.Path(t, "models", "yolov8n_int8_320.onnx")
	s := startServer(t, t.TempDir(), "--model", model)
	path := "/api/models/" + s.firstModelID(t) + "/predict"

	cases := []struct {
		file    string
		status  []int
		message string
	}{
		{"img_jpeg_missing_eoi.jpg", []int{200}, ""},
		{"img_jpeg_truncated_half.jpg", []int{400}, "corrupt"},
		{"img_zero_bytes.jpg", []int{400}, "empty"},
		{"img_text_named.jpg", []int{400, 415}, "unsupported image format"},
		{"img_pdf_named.jpg", []int{400, 415}, "unsupported image format"},
		{"img_png_named.jpg", []int{200}, ""},
		{"img_jpeg_named.png", []int{200}, ""},
		{"img_png_bomb_50000x50000.png", []int{400, 413}, "pixels"},
		{"img_jpeg_sof_65000x65000.jpg", []int{400, 413}, "pixels"},
		{"img_png_rgba_transparent_colour.png", []int{200}, ""},
		{"img_1280x721_halfpixel.jpg", []int{200}, ""},
		{"img_3775x1571_padround.jpg", []int{200}, ""},
		{"img_1600x2128_oddpad.jpg", []int{200}, ""},
	}
	for _, c := range cases {
		img := testshared.Read(t, "cases", "images", c.file)
		r := s.predict(t, path, img, nil)
		if !containsInt(c.status, r.status) {
			t.Errorf("%s: status %d, want one of %v: %s", c.file, r.status, c.status, r.body)
			continue
		}
		if r.status != 200 {
			checkErrorBody(t, c.file, r, c.message)
		}
	}

	// Every EXIF orientation of the same scene gives the same predictions.
	var first string
	for i := 1; i <= 8; i++ {
		name := "img_exif_orient" + string(rune('0'+i)) + ".jpg"
		r := s.predict(t, path, testshared.Read(t, "cases", "images", name), map[string]string{"decimals": "0"})
		if r.status != 200 {
			t.Fatalf("%s: status %d: %s", name, r.status, r.body)
		}
		if i == 1 {
			first = string(r.body)
		} else if string(r.body) != first {
			t.Errorf("%s: predictions %s differ from orientation 1: %s", name, r.body, first)
		}
	}
	health := s.do(t, http.MethodGet, "/health", "", nil, false)
	if health.status != 200 {
		t.Errorf("server unhealthy after fault inputs: %d %s", health.status, health.body)
	}
}

func TestServeRequestValidation(t *testing.T) {
	model := testshared.Path(t, "models", "yolov8n_int8_320.onnx")
	s := startServer(t, t.TempDir(), "--model", model, "--max-body", "2000000")
	id := s.firstModelID(t)
	path := "/api/models/" + id + "/predict"
	bus := testshared.Read(t, "images", "bus.jpg")

	fieldCases := []struct {
		name   string
		fields map[string]string
		want   string
	}{
		{"conf above", map[string]string{"conf": "1.5"}, "conf"},
		{"conf below", map[string]string{"conf": "0"}, "conf"},
		{"conf text", map[string]string{"conf": "high"}, "conf"},
		{"iou above", map[string]string{"iou": "0.99"}, "iou"},
		{"imgsz small", map[string]string{"imgsz": "16"}, "imgsz"},
		{"imgsz large", map[string]string{"imgsz": "4096"}, "imgsz"},
		{"decimals", map[string]string{"decimals": "11"}, "decimals"},
		{"normalize", map[string]string{"normalize": "maybe"}, "normalize"},
	}
	for _, c := range fieldCases {
		r := s.predict(t, path, bus, c.fields)
		if r.status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400: %s", c.name, r.status, r.body)
			continue
		}
		checkErrorBody(t, c.name, r, c.want)
	}

	r := s.predict(t, path, nil, nil)
	if r.status != http.StatusBadRequest {
		t.Errorf("no file: status %d, want 400", r.status)
	}
	checkErrorBody(t, "no file", r, "file")

	r = s.do(t, http.MethodPost, path, "application/json", strings.NewReader(`{"file":"x"}`), true)
	if r.status != http.StatusUnsupportedMediaType {
		t.Errorf("json body: status %d, want 415: %s", r.status, r.body)
	}
	checkErrorBody(t, "json body", r, "multipart/form-data")

	big := bytes.Repeat([]byte{0xff}, 3_000_000)
	r = s.predict(t, path, big, nil)
	if r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("3 MB body over a 2 MB limit: status %d, want 413: %s", r.status, r.body)
	}
	checkErrorBody(t, "large body", r, "limit")

	r = s.do(t, http.MethodPost, path, "multipart/form-data; boundary=x", nil, false)
	if r.status != http.StatusUnauthorized {
		t.Errorf("no key: status %d, want 401", r.status)
	}
	checkErrorBody(t, "no key", r, "api key")

	r = s.do(t, http.MethodGet, "/api/models/"+strings.Repeat("0", 24), "", nil, true)
	if r.status != http.StatusNotFound {
		t.Errorf("unknown model: status %d, want 404", r.status)
	}

	src := base64.StdEncoding.EncodeToString(testshared.Read(t, "cases", "images", "img_png_rgba_transparent_colour.png"))
	r = s.predict(t, path, nil, map[string]string{"source": src})
	if r.status != http.StatusOK {
		t.Errorf("base64 source: status %d, want 200: %s", r.status, r.body)
	}
	r = s.predict(t, path, nil, map[string]string{"source": "https://example.invalid/a.jpg"})
	if r.status != http.StatusBadRequest {
		t.Errorf("URL source while disabled: status %d, want 400", r.status)
	}

	r = s.predict(t, path, bus, map[string]string{"normalize": "true", "decimals": "3"})
	var seed struct {
		Success     bool `json:"success"`
		Predictions []struct {
			Class string             `json:"class"`
			Box   map[string]float64 `json:"box"`
		} `json:"predictions"`
	}
	if err := json.Unmarshal(r.body, &seed); err != nil || !seed.Success || len(seed.Predictions) == 0 {
		t.Fatalf("normalized predict: %d %v %s", r.status, err, r.body)
	}
	for _, p := range seed.Predictions {
		for k, v := range p.Box {
			if v < 0 || v > 1 {
				t.Errorf("normalized box %s = %v, want within [0, 1]", k, v)
			}
		}
	}
	if r.header.Get("Server-Timing") == "" || !strings.Contains(r.header.Get("Server-Timing"), "inference;dur=") {
		t.Errorf("Server-Timing = %q, want stage durations", r.header.Get("Server-Timing"))
	}

	metrics := s.do(t, http.MethodGet, "/metrics", "", nil, false)
	if !bytes.Contains(metrics.body, []byte(`yoloplane_predict_duration_seconds`)) {
		t.Errorf("/metrics has no yoloplane_predict_duration_seconds series")
	}
}

func TestServeRestartKeepsState(t *testing.T) {
	model := testshared.Path(t, "models", "yolov8n_int8_320.onnx")
	dataDir := t.TempDir()
	s := startServer(t, dataDir, "--model", model)
	id := s.firstModelID(t)
	key := s.key
	info, err := os.Stat(filepath.Join(dataDir, "admin.key"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("admin.key mode = %v, want 0600", info.Mode().Perm())
	}
	raftFiles, _ := filepath.Glob(filepath.Join(dataDir, "raft", "*"))
	for _, f := range raftFiles {
		if b, err := os.ReadFile(f); err == nil && bytes.Contains(b, []byte(key)) {
			t.Errorf("%s contains the plain admin key; only its hash may be stored", f)
		}
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	_ = s.cmd.Wait()

	s2 := startServer(t, dataDir)
	if s2.key != key {
		t.Fatalf("admin key changed across restart")
	}
	if got := s2.firstModelID(t); got != id {
		t.Errorf("model ID after restart = %s, want %s", got, id)
	}
	r := s2.predict(t, "/api/models/"+id+"/predict", testshared.Read(t, "images", "bus.jpg"), nil)
	if r.status != http.StatusOK {
		t.Errorf("predict after restart: %d %s", r.status, r.body)
	}
}

func containsInt(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func TestServeRejectsSecondProcessOnDataDir(t *testing.T) {
	dataDir := t.TempDir()
	startServer(t, dataDir)
	bin := buildBinary(t)
	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--data", dataDir)
	done := make(chan error, 1)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatalf("second server on the same data directory exited 0: %s", out.String())
		}
		if !strings.Contains(out.String(), "in use by another yoloplane process") {
			t.Errorf("second server output %q does not say the directory is in use", out.String())
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("second server on the same data directory did not exit within 30s")
	}
}

func TestServeHelpExitsZero(t *testing.T) {
	out, err := exec.Command(buildBinary(t), "serve", "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("serve --help: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "-listen") {
		t.Errorf("serve --help output lacks the flags: %s", out)
	}
}
