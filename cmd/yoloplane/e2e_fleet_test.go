package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/yoloplane/yoloplane/internal/contract"
	"github.com/yoloplane/yoloplane/internal/testshared"
)

// dataNode is a yoloplane dataplane process started by a test.
type dataNode struct {
	id     string
	cmd    *exec.Cmd
	addr   string
	stderr *syncBuffer
}

// syncBuffer is a bytes.Buffer that a process writes to while the test
// reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var nodeServingLine = regexp.MustCompile(`Data-plane node \S+ serving on http://(\S+)`)

// startDataNode runs `yoloplane dataplane` on a free loopback port against
// the control plane of s. The process is killed when the test ends.
func startDataNode(t *testing.T, s *server, id, region string) *dataNode {
	t.Helper()
	cmd := exec.Command(buildBinary(t), "dataplane", "--node-id", id, "--region", region,
		"--listen", "127.0.0.1:0", "--gossip", "", "--control-plane", s.baseURL,
		"--data", t.TempDir(), "--secret-file", filepath.Join(s.dataDir, "cluster.secret"))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	n := &dataNode{id: id, cmd: cmd, stderr: &syncBuffer{}}
	cmd.Stderr = n.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if m := nodeServingLine.FindStringSubmatch(sc.Text()); m != nil {
			n.addr = m[1]
			break
		}
	}
	if n.addr == "" {
		t.Fatalf("node %s exited before serving; stderr:\n%s", id, n.stderr)
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	return n
}

// deploymentView is the ID-route deployment as the fleet tests read it.
type deploymentView struct {
	ID            string   `json:"id"`
	ModelID       string   `json:"modelId"`
	Status        string   `json:"status"`
	StatusMessage string   `json:"statusMessage"`
	Nodes         []string `json:"nodes"`
	ServiceURL    string   `json:"serviceUrl"`
}

func (s *server) deployment(t *testing.T, id string) deploymentView {
	t.Helper()
	r := s.do(t, http.MethodGet, "/api/deployments/"+id, "", nil, true)
	if r.status != http.StatusOK {
		t.Fatalf("get deployment %s: status %d: %s", id, r.status, r.body)
	}
	var d deploymentView
	if err := json.Unmarshal(r.body, &d); err != nil {
		t.Fatalf("decode deployment: %v: %s", err, r.body)
	}
	return d
}

// waitDeployment polls a deployment until ok accepts it, for at most a
// minute, and returns it. seen receives every view polled.
func (s *server) waitDeployment(t *testing.T, id, what string, ok func(deploymentView) bool, seen func(deploymentView)) deploymentView {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		d := s.deployment(t, id)
		if seen != nil {
			seen(d)
		}
		if ok(d) {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("deployment %s not %s within a minute: %+v", id, what, d)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// busCounts returns the classes detected above 0.5 in an ID-route predict
// response.
func busCounts(t *testing.T, body []byte) map[string]int {
	t.Helper()
	var resp struct {
		Success     bool `json:"success"`
		Predictions []struct {
			Class      string  `json:"class"`
			Confidence float64 `json:"confidence"`
		} `json:"predictions"`
	}
	if err := json.Unmarshal(body, &resp); err != nil || !resp.Success {
		t.Fatalf("predict response is not a success: %v: %s", err, body)
	}
	counts := map[string]int{}
	for _, p := range resp.Predictions {
		if p.Confidence > 0.5 {
			counts[p.Class]++
		}
	}
	return counts
}

// predictURL posts image as a multipart form to an absolute URL with the
// admin key.
func (s *server) predictURL(t *testing.T, url string, image []byte) (int, []byte, error) {
	ct, body := multipartBody(t, image, nil)
	req, err := http.NewRequest(http.MethodPost, url, body)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+s.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// TestFleetDeployments runs serve without its in-process node, two nodes
// in us-central1 and one in europe-west4. It takes a deployment through
// predicts on both route families and the service URL, stop and start, a
// model replace under load, metrics and logs, the loss of its node and
// delete.
func TestFleetDeployments(t *testing.T) {
	s := startServer(t, t.TempDir(), "--no-node", "--rate-limits=false",
		"--model", testshared.Path(t, "models", "yolov8n_int8_320.onnx"),
		"--model", testshared.Path(t, "models", "yolo11n_int8_320.onnx"))
	nodes := map[string]*dataNode{}
	for _, n := range []struct{ id, region string }{{"us-a", "us-central1"}, {"us-b", "us-central1"}, {"eu", "europe-west4"}} {
		nodes[n.id] = startDataNode(t, s, n.id, n.region)
	}
	bus := testshared.Read(t, "images", "bus.jpg")
	var placedOnEU atomic.Bool
	watchEU := func(d deploymentView) {
		if slices.Contains(d.Nodes, "eu") {
			placedOnEU.Store(true)
		}
	}

	r := s.do(t, http.MethodPost, "/api/deployments/yoloplane", "application/json",
		strings.NewReader(`{"project":"default","model":"yolov8n-int8-320","deployment":"bus","name":"Bus","region":"us-central1"}`), true)
	if r.status != http.StatusCreated && r.status != http.StatusOK {
		t.Fatalf("create deployment: status %d: %s", r.status, r.body)
	}
	var created struct{ ID string }
	if err := json.Unmarshal(r.body, &created); err != nil || created.ID == "" {
		t.Fatalf("create deployment response has no id: %v: %s", err, r.body)
	}
	id := created.ID
	ready := func(d deploymentView) bool { return d.Status == "ready" && d.ServiceURL != "" }
	d := s.waitDeployment(t, id, "ready", ready, watchEU)
	contract.Validate(t, "DeploymentDetailResponse", s.do(t, http.MethodGet, "/api/deployments/yoloplane/bus", "", nil, true).body)

	predicts := 0 // predicts that reached a node, for the metrics check
	checkBus := func(route string, status int, body []byte) {
		t.Helper()
		if status != http.StatusOK {
			t.Fatalf("predict through %s: status %d: %s", route, status, body)
		}
		predicts++
		if c := busCounts(t, body); c["person"] < 3 || c["bus"] != 1 {
			t.Errorf("predict through %s: detections above 0.5 = %v, want at least 3 person and 1 bus", route, c)
		}
	}
	r = s.predict(t, "/api/deployments/"+id+"/predict", bus, nil)
	checkBus("the control plane", r.status, r.body)
	status, body, err := s.predictURL(t, d.ServiceURL, bus)
	if err != nil {
		t.Fatalf("predict through the service URL %s: %v", d.ServiceURL, err)
	}
	checkBus("the service URL", status, body)
	r = s.predict(t, "/api/deployments/yoloplane/bus/predict", bus, nil)
	if r.status != http.StatusOK {
		t.Fatalf("owner-route predict: status %d: %s", r.status, r.body)
	}
	predicts++
	contract.Validate(t, "PredictResponse", r.body)

	// A stopped deployment rejects predicts with 503 and a message naming
	// the stop.
	if r = s.do(t, http.MethodPost, "/api/deployments/"+id+"/stop", "", nil, true); r.status != http.StatusOK {
		t.Fatalf("stop: status %d: %s", r.status, r.body)
	}
	r = s.predict(t, "/api/deployments/"+id+"/predict", bus, nil)
	if r.status != http.StatusServiceUnavailable || !strings.Contains(string(r.body), "stopped") {
		t.Errorf("predict of a stopped deployment: status %d %s, want 503 saying it is stopped", r.status, r.body)
	}
	if r = s.do(t, http.MethodPost, "/api/deployments/"+id+"/start", "", nil, true); r.status != http.StatusOK {
		t.Fatalf("start: status %d: %s", r.status, r.body)
	}
	d = s.waitDeployment(t, id, "ready after start", ready, watchEU)
	r = s.predict(t, "/api/deployments/"+id+"/predict", bus, nil)
	checkBus("the control plane after start", r.status, r.body)

	predicts += replaceUnderLoad(t, s, id, bus, watchEU)

	checkCounts(t, s, id, predicts)
	killServingNode(t, s, nodes, id, bus, watchEU)

	if r = s.do(t, http.MethodDelete, "/api/deployments/"+id, "", nil, true); r.status != http.StatusOK && r.status != http.StatusNoContent {
		t.Fatalf("delete: status %d: %s", r.status, r.body)
	}
	if r = s.do(t, http.MethodGet, "/api/deployments/"+id, "", nil, true); r.status != http.StatusNotFound {
		t.Errorf("get after delete: status %d, want 404", r.status)
	}
	if placedOnEU.Load() {
		t.Error("the us-central1 deployment was placed on the europe-west4 node")
	}
	if strings.Contains(nodes["eu"].stderr.String(), "deployment_id="+id) {
		t.Errorf("the europe-west4 node loaded or served the us-central1 deployment; its log:\n%s", nodes["eu"].stderr)
	}
}

// replaceUnderLoad replaces the deployment's model with yolo11n while a
// client predicts through the control plane, and returns how many
// predicts it sent. Every predict must succeed.
func replaceUnderLoad(t *testing.T, s *server, id string, bus []byte, seen func(deploymentView)) int {
	t.Helper()
	stop := make(chan struct{})
	var sent, failed atomic.Int64
	var firstFailure atomic.Value
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			status, body, err := s.predictURL(t, s.baseURL+"/api/deployments/"+id+"/predict", bus)
			sent.Add(1)
			if err != nil || status != http.StatusOK {
				failed.Add(1)
				firstFailure.CompareAndSwap(nil, fmt.Sprintf("status %d, error %v: %s", status, err, body))
			}
		}
	}()
	r := s.do(t, http.MethodPatch, "/api/deployments/yoloplane/bus", "application/json",
		strings.NewReader(`{"action":"replace","project":"default","model":"yolo11n-int8-320"}`), true)
	if r.status != http.StatusAccepted {
		close(stop)
		<-done
		t.Fatalf("replace: status %d: %s", r.status, r.body)
	}
	contract.Validate(t, "UpdatingDeploymentResponse", r.body)
	want := s.firstModelIDBySlug(t, "yolo11n-int8-320")
	s.waitDeployment(t, id, "ready with yolo11n", func(d deploymentView) bool {
		return d.ModelID == want && d.Status == "ready"
	}, seen)
	// A few predicts after the switch, so that some run on the new model.
	for sent.Load() < 3 {
		time.Sleep(50 * time.Millisecond)
	}
	close(stop)
	<-done
	t.Logf("replace: %d predicts during the rollout, %d failed", sent.Load(), failed.Load())
	if failed.Load() > 0 {
		t.Errorf("%d of %d predicts failed during the replace; first: %v", failed.Load(), sent.Load(), firstFailure.Load())
	}
	return int(sent.Load() - failed.Load())
}

func (s *server) firstModelIDBySlug(t *testing.T, slug string) string {
	t.Helper()
	r := s.do(t, http.MethodGet, "/api/models", "", nil, true)
	var list struct {
		Models []struct{ ID, Slug string } `json:"models"`
	}
	if err := json.Unmarshal(r.body, &list); err != nil {
		t.Fatalf("list models: %v: %s", err, r.body)
	}
	for _, m := range list.Models {
		if m.Slug == slug {
			return m.ID
		}
	}
	t.Fatalf("model %s not listed: %s", slug, r.body)
	return ""
}

// checkCounts compares the deployment's metrics and logs with the number
// of predicts the test sent.
func checkCounts(t *testing.T, s *server, id string, predicts int) {
	t.Helper()
	r := s.do(t, http.MethodGet, "/api/deployments/"+id+"/metrics?range=1h", "", nil, true)
	var m struct {
		Summary struct {
			TotalRequests float64 `json:"totalRequests"`
			ErrorCount    float64 `json:"errorCount"`
		} `json:"summary"`
	}
	if err := json.Unmarshal(r.body, &m); r.status != http.StatusOK || err != nil {
		t.Fatalf("metrics: status %d, %v: %s", r.status, err, r.body)
	}
	if int(m.Summary.TotalRequests) != predicts || m.Summary.ErrorCount != 0 {
		t.Errorf("metrics summary = %+v, want %d requests and no errors", m.Summary, predicts)
	}
	r = s.do(t, http.MethodGet, "/api/deployments/yoloplane/bus/logs?limit=200", "", nil, true)
	if r.status != http.StatusOK {
		t.Fatalf("logs: status %d: %s", r.status, r.body)
	}
	contract.Validate(t, "DeploymentLogsResponse", r.body)
	var logs struct {
		Entries []json.RawMessage `json:"entries"`
	}
	if err := json.Unmarshal(r.body, &logs); err != nil {
		t.Fatal(err)
	}
	if want := min(predicts, 200); len(logs.Entries) != want {
		t.Errorf("log entries = %d, want %d", len(logs.Entries), want)
	}
}

// killServingNode kills the node that serves the deployment with SIGKILL
// while a client predicts through the control plane, and waits until
// predicts succeed again on the other us-central1 node.
func killServingNode(t *testing.T, s *server, nodes map[string]*dataNode, id string, bus []byte, seen func(deploymentView)) {
	t.Helper()
	d := s.deployment(t, id)
	if len(d.Nodes) != 1 || nodes[d.Nodes[0]] == nil {
		t.Fatalf("deployment nodes = %v, want one of the started nodes", d.Nodes)
	}
	victim := nodes[d.Nodes[0]]
	var moveReported bool
	seeMove := func(d deploymentView) {
		seen(d)
		if strings.Contains(d.StatusMessage, "moved from node "+victim.id) {
			moveReported = true
		}
	}
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	var failed int
	var firstOK time.Time
	deadline := killed.Add(time.Minute)
	for firstOK.IsZero() {
		if time.Now().After(deadline) {
			t.Fatalf("predicts did not resume within a minute of killing node %s; %d failed; deployment %+v", victim.id, failed, s.deployment(t, id))
		}
		status, _, err := s.predictURL(t, s.baseURL+"/api/deployments/"+id+"/predict", bus)
		if err == nil && status == http.StatusOK {
			firstOK = time.Now()
			break
		}
		failed++
		seeMove(s.deployment(t, id))
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("node loss: %d predicts failed over %v before predicts resumed", failed, firstOK.Sub(killed).Round(time.Millisecond))
	moved := s.waitDeployment(t, id, "moved off the killed node", func(d deploymentView) bool {
		return len(d.Nodes) == 1 && d.Nodes[0] != victim.id
	}, seeMove)
	if !moveReported {
		t.Errorf("no status message reported the move from node %s", victim.id)
	}
	if moved.Nodes[0] != "us-a" && moved.Nodes[0] != "us-b" {
		t.Errorf("deployment moved to %v, want the other us-central1 node", moved.Nodes)
	}
}

// TestServeDeploymentInProcess checks that serve alone runs deployments in
// the default region on its in-process node.
func TestServeDeploymentInProcess(t *testing.T) {
	s := startServer(t, t.TempDir(), "--model", testshared.Path(t, "models", "yolov8n_int8_320.onnx"))
	r := s.do(t, http.MethodPost, "/api/deployments", "application/json",
		strings.NewReader(`{"modelId":"`+s.firstModelID(t)+`","name":"bus"}`), true)
	if r.status != http.StatusCreated {
		t.Fatalf("create deployment: status %d: %s", r.status, r.body)
	}
	var created struct{ ID string }
	if err := json.Unmarshal(r.body, &created); err != nil {
		t.Fatal(err)
	}
	d := s.waitDeployment(t, created.ID, "ready", func(d deploymentView) bool { return d.Status == "ready" && d.ServiceURL != "" }, nil)
	if len(d.Nodes) != 1 || d.Nodes[0] != "embedded" {
		t.Errorf("deployment nodes = %v, want [embedded]", d.Nodes)
	}
	bus := testshared.Read(t, "images", "bus.jpg")
	r = s.predict(t, "/api/deployments/yoloplane/bus/predict", bus, nil)
	if r.status != http.StatusOK {
		t.Fatalf("owner-route predict: status %d: %s", r.status, r.body)
	}
	contract.Validate(t, "PredictResponse", r.body)
	status, body, err := s.predictURL(t, d.ServiceURL, bus)
	if err != nil || status != http.StatusOK {
		t.Fatalf("predict through the service URL: status %d, %v: %s", status, err, body)
	}
	if c := busCounts(t, body); c["bus"] != 1 {
		t.Errorf("service URL detections above 0.5 = %v, want one bus", c)
	}
}
