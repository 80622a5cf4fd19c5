package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yoloplane/yoloplane/internal/contract"
	"github.com/yoloplane/yoloplane/internal/testshared"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// buildBinary compiles the yoloplane binary once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "yoloplane-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "yoloplane")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// server is a yoloplane serve process started by a test.
type server struct {
	cmd     *exec.Cmd
	baseURL string
	key     string
	dataDir string
	stderr  *bytes.Buffer
}

var servingLine = regexp.MustCompile(`Serving on (http://\S+)`)
var keyLine = regexp.MustCompile(`^\s+(ul_[0-9a-f]{40})\s*$`)

// startServer runs `yoloplane serve` on a free loopback port and waits until
// it prints its address. The process is killed when the test ends.
func startServer(t *testing.T, dataDir string, args ...string) *server {
	t.Helper()
	bin := buildBinary(t)
	full := append([]string{"serve", "--listen", "127.0.0.1:0", "--data", dataDir}, args...)
	cmd := exec.Command(bin, full...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, dataDir: dataDir, stderr: &bytes.Buffer{}}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	deadline := time.After(120 * time.Second)
	for s.baseURL == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("server exited before serving; stderr:\n%s", s.stderr)
			}
			if m := keyLine.FindStringSubmatch(line); m != nil {
				s.key = m[1]
			}
			if m := servingLine.FindStringSubmatch(line); m != nil {
				s.baseURL = m[1]
			}
		case <-deadline:
			t.Fatalf("server did not start in 120s; stderr:\n%s", s.stderr)
		}
	}
	go func() {
		for range lines {
		}
	}()
	if s.key == "" {
		b, err := os.ReadFile(filepath.Join(dataDir, "admin.key"))
		if err != nil {
			t.Fatalf("read admin key: %v", err)
		}
		s.key = strings.TrimSpace(string(b))
	}
	return s
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (s *server) do(t *testing.T, method, path, contentType string, body io.Reader, auth bool) response {
	t.Helper()
	req, err := http.NewRequest(method, s.baseURL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if auth {
		req.Header.Set("Authorization", "Bearer "+s.key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// multipartBody builds a predict form with an image and text fields.
func multipartBody(t *testing.T, image []byte, fields map[string]string) (string, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := w.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if image != nil {
		fw, err := w.CreateFormFile("file", "image.jpg")
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(image)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.FormDataContentType(), &buf
}

func (s *server) predict(t *testing.T, path string, image []byte, fields map[string]string) response {
	t.Helper()
	ct, body := multipartBody(t, image, fields)
	return s.do(t, http.MethodPost, path, ct, body, true)
}

func (s *server) firstModelID(t *testing.T) string {
	t.Helper()
	r := s.do(t, http.MethodGet, "/api/models", "", nil, true)
	if r.status != http.StatusOK {
		t.Fatalf("list models: %d %s", r.status, r.body)
	}
	var list struct {
		Models []struct{ ID string } `json:"models"`
		Total  int                   `json:"total"`
	}
	if err := json.Unmarshal(r.body, &list); err != nil || len(list.Models) == 0 {
		t.Fatalf("list models: %v %s", err, r.body)
	}
	return list.Models[0].ID
}

// readmeExample returns the shell block that follows the marker comment in
// README.md.
func readmeExample(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "<!-- readme-predict-example -->")
	if !ok {
		t.Fatal("README.md has no readme-predict-example marker")
	}
	_, rest, ok = strings.Cut(rest, "```sh\n")
	if !ok {
		t.Fatal("README.md predict example has no sh block")
	}
	block, _, ok := strings.Cut(rest, "```")
	if !ok {
		t.Fatal("README.md predict example block is not closed")
	}
	return block
}

func TestREADMEPredictExample(t *testing.T) {
	model := testshared.Path(t, "models", "yolov8n_int8_640.onnx")
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatalf("curl is needed to run the README example: %v", err)
	}
	s := startServer(t, t.TempDir(), "--model", model)

	script := readmeExample(t)
	script = strings.Replace(script, "http://127.0.0.1:8080", s.baseURL, 1)
	script = strings.Replace(script, "data/admin.key", filepath.Join(s.dataDir, "admin.key"), 1)
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
	cmd.Dir = "../.."
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("README example failed: %v\n%s", err, out)
	}
	contract.Validate(t, "PredictResponse", out)
	var resp struct {
		Images []struct {
			Shape   []float64 `json:"shape"`
			Results []struct {
				Name       string  `json:"name"`
				Confidence float64 `json:"confidence"`
			} `json:"results"`
		} `json:"images"`
	}
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("README example output is not JSON: %v\n%s", err, out)
	}
	if len(resp.Images) != 1 {
		t.Fatalf("images = %d, want 1: %s", len(resp.Images), out)
	}
	counts := map[string]int{}
	for _, r := range resp.Images[0].Results {
		if r.Confidence > 0.5 {
			counts[r.Name]++
		}
	}
	if counts["person"] != 3 || counts["bus"] != 1 {
		t.Errorf("bus.jpg detections above 0.5 = %v, want 3 person and 1 bus", counts)
	}
	if got := resp.Images[0].Shape; len(got) != 2 || got[0] != 1080 || got[1] != 810 {
		t.Errorf("shape = %v, want [1080 810]", got)
	}
}

// TestOwnerRouteContract checks owner-route predicts of every task against the
// contract schema, and that owner-route errors use the contract's codes.
func TestOwnerRouteContract(t *testing.T) {
	files := []string{
		"yolov8n-seg_int8_320.onnx", "yolo11n-pose_int8w_deqdq_640.onnx",
		"yolo26n-cls_food101_int8_224.onnx", "yolo26n_int8_e2e_640.onnx",
	}
	var args []string
	for _, f := range files {
		args = append(args, "--model", testshared.Path(t, "models", f))
	}
	s := startServer(t, t.TempDir(), args...)
	slugs := []string{"yolov8n-seg-int8-320", "yolo11n-pose-int8w-deqdq-640", "yolo26n-cls-food101-int8-224", "yolo26n-int8-e2e-640"}
	bus := testshared.Read(t, "images", "bus.jpg")
	for _, slug := range slugs {
		for _, fields := range []map[string]string{nil, {"normalize": "true", "decimals": "2"}} {
			r := s.predict(t, "/api/models/yoloplane/default/"+slug+"/predict", bus, fields)
			if r.status != http.StatusOK {
				t.Errorf("%s: status %d: %s", slug, r.status, r.body)
				continue
			}
			contract.Validate(t, "PredictResponse", r.body)
		}
	}
	r := s.predict(t, "/api/models/yoloplane/default/no-such-model/predict", bus, nil)
	if r.status != http.StatusNotFound {
		t.Errorf("unknown owner-route model: status %d, want 404", r.status)
	}
	contract.Validate(t, "ErrorResponse", r.body)
	r = s.do(t, http.MethodPost, "/api/models/yoloplane/default/"+slugs[0]+"/predict", "text/plain", strings.NewReader("hello"), true)
	if r.status != http.StatusBadRequest {
		t.Errorf("owner route with a text body: status %d, want 400 (the contract lists no 415)", r.status)
	}
	contract.Validate(t, "ErrorResponse", r.body)
}
