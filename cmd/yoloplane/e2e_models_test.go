package main

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yoloplane/yoloplane/internal/contract"
	"github.com/yoloplane/yoloplane/internal/testshared"
)

// uploadModel posts a model file to the default project of the admin.
func (s *server) uploadModel(t *testing.T, name string, data []byte) response {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.WriteField("project", "default")
	fw, err := w.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	w.Close()
	return s.do(t, http.MethodPost, "/api/models", w.FormDataContentType(), &buf, true)
}

// detections counts the detected class names of a predict response of
// either route family.
func detections(t *testing.T, body []byte) map[string]int {
	t.Helper()
	var resp struct {
		Predictions []struct {
			Class string `json:"class"`
		} `json:"predictions"`
		Images []struct {
			Results []struct{ Name string } `json:"results"`
		} `json:"images"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatalf("predict response is not JSON: %v: %s", err, body)
	}
	counts := map[string]int{}
	for _, p := range resp.Predictions {
		counts[p.Class]++
	}
	for _, img := range resp.Images {
		for _, r := range img.Results {
			counts[r.Name]++
		}
	}
	return counts
}

func TestModelUploadPredictTrashLifecycle(t *testing.T) {
	s := startServer(t, t.TempDir())
	bus := testshared.Read(t, "images", "bus.jpg")
	res := s.uploadModel(t, "yolov8n_int8_320.onnx", testshared.Read(t, "models", "yolov8n_int8_320.onnx"))
	if res.status != http.StatusCreated {
		t.Fatalf("upload yolov8n: status %d: %s", res.status, res.body)
	}
	contract.Validate(t, "CreateModelResponse", res.body)
	var created struct{ ID, Owner, Project, Model string }
	json.Unmarshal(res.body, &created)
	byID := "/api/models/" + created.ID + "/predict"
	byOwner := "/api/models/" + created.Owner + "/" + created.Project + "/" + created.Model + "/predict"
	for _, path := range []string{byID, byOwner} {
		r := s.predict(t, path, bus, nil)
		if r.status != http.StatusOK {
			t.Fatalf("predict %s: status %d: %s", path, r.status, r.body)
		}
		if got := detections(t, r.body); got["person"] != 4 || got["bus"] != 1 {
			t.Errorf("predict %s on bus.jpg = %v, want 4 person and 1 bus", path, got)
		}
	}
	contract.Validate(t, "PredictResponse", s.predict(t, byOwner, bus, nil).body)

	yolox := s.uploadModel(t, "yolox_nano_416.onnx", testshared.Read(t, "models", "yolox_nano_416.onnx"))
	if yolox.status != http.StatusUnprocessableEntity || !strings.Contains(string(yolox.body), "cannot serve predictions") {
		t.Errorf("upload yolox: status %d: %s, want 422 with the reason", yolox.status, yolox.body)
	}

	junk := s.uploadModel(t, "junk.onnx", []byte("not a protobuf at all"))
	if junk.status != http.StatusUnprocessableEntity || !strings.Contains(string(junk.body), "not a valid ONNX model") {
		t.Errorf("upload a file that is not ONNX: status %d: %s, want 422 saying so", junk.status, junk.body)
	}

	pt := s.uploadModel(t, "best.pt", []byte("pytorch checkpoint"))
	if pt.status != http.StatusCreated {
		t.Fatalf("upload .pt: status %d: %s", pt.status, pt.body)
	}
	var ptModel struct{ ID string }
	json.Unmarshal(pt.body, &ptModel)
	if r := s.do(t, http.MethodGet, "/api/models/"+ptModel.ID, "", nil, true); !strings.Contains(string(r.body), `"status":"needs_export"`) {
		t.Errorf(".pt model: %s, want status needs_export", r.body)
	}
	if r := s.predict(t, "/api/models/"+ptModel.ID+"/predict", bus, nil); r.status != http.StatusConflict || !strings.Contains(string(r.body), "exported to ONNX") {
		t.Errorf("predict on .pt: status %d: %s, want 409 asking for an export", r.status, r.body)
	}

	modelPath := "/api/models/" + created.ID
	if r := s.do(t, http.MethodDelete, modelPath, "", nil, true); r.status != http.StatusOK {
		t.Fatalf("delete: status %d: %s", r.status, r.body)
	}
	if r := s.predict(t, byID, bus, nil); r.status != http.StatusNotFound {
		t.Errorf("predict on trashed model: status %d, want 404", r.status)
	}
	trash := `{"id":"` + created.ID + `","type":"model"}`
	if r := s.do(t, http.MethodPost, "/api/trash", "application/json", strings.NewReader(trash), true); r.status != http.StatusOK {
		t.Fatalf("restore: status %d: %s", r.status, r.body)
	}
	if r := s.predict(t, byID, bus, nil); r.status != http.StatusOK {
		t.Errorf("predict after restore: status %d: %s", r.status, r.body)
	}

	var sha struct{ SHA256 string }
	json.Unmarshal(s.do(t, http.MethodGet, modelPath, "", nil, true).body, &sha)
	if n := blobFiles(t, s.dataDir, sha.SHA256); n != 1 {
		t.Fatalf("model blob %q: %d files before the permanent delete, want 1", sha.SHA256, n)
	}
	s.do(t, http.MethodDelete, modelPath, "", nil, true)
	r := s.do(t, http.MethodDelete, "/api/trash", "application/json", strings.NewReader(trash), true)
	if r.status != http.StatusOK {
		t.Fatalf("permanent delete: status %d: %s", r.status, r.body)
	}
	contract.Validate(t, "DeleteTrashResponse", r.body)
	if n := blobFiles(t, s.dataDir, sha.SHA256); n != 0 {
		t.Errorf("model blob still stored after the permanent delete")
	}
}

// blobFiles counts the files under dir named hash.
func blobFiles(t *testing.T, dir, hash string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() == hash {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestLargeUploadStreams sends a 20 MB model upload, which the server
// receives as a stream, to a project that does not exist. The server must
// respond 404 without reading the body into memory whole, which fasthttp
// reports with a warning in the log.
func TestLargeUploadStreams(t *testing.T) {
	s := startServer(t, t.TempDir())
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.WriteField("project", "no-such-project")
	fw, err := w.CreateFormFile("file", "big.onnx")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(make([]byte, 20<<20))
	w.Close()
	res := s.do(t, http.MethodPost, "/api/models", w.FormDataContentType(), &buf, true)
	if res.status != http.StatusNotFound {
		t.Errorf("upload to a missing project: status %d, want 404: %s", res.status, res.body)
	}
	if strings.Contains(s.stderr.String(), "entire stream") {
		t.Errorf("the server read the streamed upload into memory:\n%s", s.stderr.String())
	}
}
