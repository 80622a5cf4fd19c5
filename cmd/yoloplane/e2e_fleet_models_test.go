package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/yoloplane/yoloplane/internal/contract"
	"github.com/yoloplane/yoloplane/internal/testshared"
)

// TestFleetModelPredicts runs serve without its in-process node and one
// data-plane node that holds a deployment of the model warm. Model
// predicts, on both route families, must run on that node; warm-up must
// name it; a predict token must work on its model's predict route only.
func TestFleetModelPredicts(t *testing.T) {
	s := startServer(t, t.TempDir(), "--no-node", "--rate-limits=false",
		"--model", testshared.Path(t, "models", "yolov8n_int8_320.onnx"))
	node := startDataNode(t, s, "us-a", "us-central1")
	bus := testshared.Read(t, "images", "bus.jpg")
	modelID := s.firstModelID(t)

	r := s.do(t, http.MethodPost, "/api/deployments", "application/json",
		strings.NewReader(`{"modelId":"`+modelID+`","name":"bus","region":"us-central1"}`), true)
	if r.status != http.StatusCreated {
		t.Fatalf("create deployment: status %d: %s", r.status, r.body)
	}
	var created struct{ ID string }
	if err := json.Unmarshal(r.body, &created); err != nil {
		t.Fatal(err)
	}
	s.waitDeployment(t, created.ID, "ready", func(d deploymentView) bool { return d.Status == "ready" }, nil)

	r = s.predict(t, "/api/models/"+modelID+"/predict", bus, nil)
	if r.status != http.StatusOK {
		t.Fatalf("model predict: status %d: %s", r.status, r.body)
	}
	if c := busCounts(t, r.body); c["person"] < 3 || c["bus"] != 1 {
		t.Errorf("model predict detections above 0.5 = %v, want at least 3 person and 1 bus", c)
	}
	r = s.predict(t, "/api/models/yoloplane/default/yolov8n-int8-320/predict", bus, nil)
	if r.status != http.StatusOK {
		t.Fatalf("owner-route model predict: status %d: %s", r.status, r.body)
	}
	contract.Validate(t, "PredictResponse", r.body)
	if got := predictCount(t, "http://"+node.addr+"/metrics", modelID); got != 2 {
		t.Errorf("node counted %d successful predicts of model %s, want 2", got, modelID)
	}
	if got := predictCount(t, s.baseURL+"/metrics", modelID); got != 0 {
		t.Errorf("control plane ran %d predicts of model %s itself, want 0", got, modelID)
	}

	r = s.do(t, http.MethodPost, "/api/models/"+modelID+"/predict/warmup", "", nil, true)
	var warm struct {
		Success  bool   `json:"success"`
		Location string `json:"location"`
		NodeAddr string `json:"nodeAddr"`
	}
	if err := json.Unmarshal(r.body, &warm); r.status != http.StatusOK || err != nil {
		t.Fatalf("warmup: status %d, %v: %s", r.status, err, r.body)
	}
	if !warm.Success || warm.Location != "node" || warm.NodeAddr != node.addr {
		t.Errorf("warmup = %+v, want success on node %s", warm, node.addr)
	}

	checkPredictToken(t, s, modelID, bus)
}

// checkPredictToken issues a predict token for modelID and checks where
// it is accepted.
func checkPredictToken(t *testing.T, s *server, modelID string, bus []byte) {
	t.Helper()
	r := s.do(t, http.MethodPost, "/api/models/"+modelID+"/predict/token", "", nil, true)
	var tok struct {
		Token     string `json:"token"`
		ExpiresIn int    `json:"expiresIn"`
	}
	if err := json.Unmarshal(r.body, &tok); r.status != http.StatusOK || err != nil || tok.Token == "" {
		t.Fatalf("predict token: status %d, %v: %s", r.status, err, r.body)
	}
	if tok.ExpiresIn <= 0 {
		t.Errorf("token expiresIn = %d, want positive", tok.ExpiresIn)
	}
	withToken := func(method, path, token string, image []byte) (int, []byte) {
		t.Helper()
		var body io.Reader
		ct := ""
		if image != nil {
			ct, body = multipartBody(t, image, nil)
		}
		req, err := http.NewRequest(method, s.baseURL+path, body)
		if err != nil {
			t.Fatal(err)
		}
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}

	status, body := withToken(http.MethodPost, "/api/models/"+modelID+"/predict", tok.Token, bus)
	if status != http.StatusOK {
		t.Fatalf("predict with token: status %d: %s", status, body)
	}
	if c := busCounts(t, body); c["bus"] != 1 {
		t.Errorf("predict with token detections above 0.5 = %v, want one bus", c)
	}
	status, body = withToken(http.MethodGet, "/api/models/"+modelID, tok.Token, nil)
	if status != http.StatusUnauthorized || !json.Valid(body) {
		t.Errorf("token on GET model: status %d %s, want 401 JSON", status, body)
	}
	tampered := tok.Token[:len(tok.Token)-2] + flipChar(tok.Token[len(tok.Token)-2:])
	status, body = withToken(http.MethodPost, "/api/models/"+modelID+"/predict", tampered, bus)
	if status != http.StatusUnauthorized || !json.Valid(body) {
		t.Errorf("tampered token: status %d %s, want 401 JSON", status, body)
	}
}

func flipChar(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}

// predictCount returns the value of yoloplane_predict_requests_total for a
// model with status 200 on a /metrics page, or 0 when the series is absent.
func predictCount(t *testing.T, url, modelID string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("get %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	prefix := `yoloplane_predict_requests_total{model="` + modelID + `",status="200"} `
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), prefix); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				t.Fatalf("metric %s has value %q", prefix, v)
			}
			return n
		}
	}
	return 0
}
