package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/yoloplane/yoloplane/internal/testshared"
)

// TestVotersShareUploads uploads an ONNX model and a project icon through
// n3, then predicts with the model and fetches the icon through n1, which
// fetch the files from n3. n2 is never asked for either file and must
// still hold both soon after, so that losing n3's disk loses neither.
func TestVotersShareUploads(t *testing.T) {
	vs, key := startThreeVoters(t)
	n1 := &server{baseURL: "http://" + vs[0].listen, key: key}
	n3 := &server{baseURL: "http://" + vs[2].listen, key: key}
	// Created through n3, so that n3 has the project when it takes the
	// upload.
	if status, _, body, err := request("POST", n3.baseURL+"/api/projects", key, []byte(`{"slug":"default"}`)); err != nil || status != http.StatusCreated {
		t.Fatalf("create project through n3: status %d, err %v: %s", status, err, body)
	}
	weights := testshared.Read(t, "models", "yolov8n_int8_320.onnx")
	up := n3.uploadModel(t, "yolov8n_int8_320.onnx", weights)
	if up.status != http.StatusCreated {
		t.Fatalf("upload through n3: status %d: %s", up.status, up.body)
	}
	var created struct{ ID string }
	json.Unmarshal(up.body, &created)

	r := n1.predict(t, "/api/models/"+created.ID+"/predict", testshared.Read(t, "images", "bus.jpg"), nil)
	if r.status != http.StatusOK {
		t.Fatalf("predict through n1: status %d: %s", r.status, r.body)
	}
	if got := detections(t, r.body); got["bus"] != 1 {
		t.Errorf("predict through n1 found %v, want one bus", got)
	}

	icon := testshared.Read(t, "images", "bus.jpg")
	if status, body := uploadIcon(t, n3, "/api/projects/yoloplane/default/icon", icon); status != http.StatusOK {
		t.Fatalf("upload icon through n3: status %d: %s", status, body)
	}
	got := n1.do(t, "GET", "/api/projects/yoloplane/default/icon", "", nil, true)
	if got.status != http.StatusOK || !bytes.Equal(got.body, icon) {
		t.Errorf("icon through n1: status %d, %d bytes; want the %d uploaded: %s", got.status, len(got.body), len(icon), got.body)
	}

	for _, data := range [][]byte{weights, icon} {
		sum := sha256.Sum256(data)
		hash := hex.EncodeToString(sum[:])
		waitFor(t, "blob "+hash[:12]+" on n2", 20*time.Second, func() bool { return blobFiles(t, vs[1].dataDir, hash) == 1 })
	}
}

// uploadIcon posts image as the multipart file of an icon route.
func uploadIcon(t *testing.T, s *server, path string, image []byte) (int, []byte) {
	t.Helper()
	contentType, body := multipartBody(t, image, nil)
	r := s.do(t, http.MethodPost, path, contentType, body, true)
	return r.status, r.body
}

// TestVotersWithoutQuorum stops two of three voters and checks that a write
// through the last one gets 503 with a message, not 500, and that its
// health check reports the missing leader.
func TestVotersWithoutQuorum(t *testing.T) {
	vs, key := startThreeVoters(t)
	vs[0].kill()
	vs[1].kill()
	base := "http://" + vs[2].listen
	waitFor(t, "n3 to lose its leader", 20*time.Second, func() bool {
		h, err := getHealth(base)
		return err == nil && h.Leader == ""
	})

	start := time.Now()
	status, _, body, err := request("POST", base+"/api/projects", key, []byte(`{"slug":"no-quorum"}`))
	if err != nil || status != http.StatusServiceUnavailable {
		t.Errorf("write without a quorum: status %d, err %v, body %s; want 503", status, err, body)
	}
	// The write gives up once no leader has been known for a while, not
	// at the 10 s apply deadline.
	if took := time.Since(start); took > 8*time.Second {
		t.Errorf("write without a quorum took %v before the 503", took)
	}
	if !strings.Contains(string(body), "no control-plane leader") {
		t.Errorf("write without a quorum: body %s, want it to name the missing leader", body)
	}

	resp, err := http.Get(base + "/health")
	if err != nil {
		t.Fatal(err)
	}
	var h struct{ Status string }
	json.NewDecoder(resp.Body).Decode(&h)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || h.Status != "no_leader" {
		t.Errorf("health without a leader: status %d, %q; want 503 and no_leader", resp.StatusCode, h.Status)
	}
}
