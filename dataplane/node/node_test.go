package node

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/yoloplane/yoloplane/dataplane/inference"
	"github.com/yoloplane/yoloplane/internal/testshared"
	"github.com/yoloplane/yoloplane/shared/wire"
)

const (
	testNodeID   = "node-a"
	deploymentID = "0123456789abcdef01234567"
	workspaceID  = "aaaaaaaaaaaaaaaaaaaaaaaa"
	keyOwner     = "ul_" + "1111111111222222222233333333334444444444"
	keyStranger  = "ul_" + "5555555555666666666677777777778888888888"
	keyUnknown   = "ul_" + "9999999999999999999999999999999999999999"
)

func hashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

func testKeys() []wire.Key {
	return []wire.Key{
		{Hash: hashKey(keyOwner), KeyID: "key-owner", UserID: "u1", Workspaces: []string{workspaceID}, Plan: "free"},
		{Hash: hashKey(keyStranger), KeyID: "key-stranger", UserID: "u2", Workspaces: []string{"bbbbbbbbbbbbbbbbbbbbbbbb"}, Plan: "free"},
	}
}

func testConfig(t *testing.T, cpURL, dataDir string) Config {
	t.Helper()
	cfg := DefaultConfig()
	cfg.NodeID = testNodeID
	cfg.Listen = "127.0.0.1:0"
	cfg.GossipBind = ""
	cfg.ControlPlane = cpURL
	cfg.Secret = testSecret
	cfg.DataDir = dataDir
	cfg.Predict.Session.IntraOpThreads = 1
	cfg.HeartbeatInterval = 100 * time.Millisecond
	cfg.UsageInterval = 100 * time.Millisecond
	cfg.BackoffMin = 20 * time.Millisecond
	cfg.BackoffMax = 100 * time.Millisecond
	cfg.FetchRetry = 500 * time.Millisecond
	cfg.RequestTimeout = 2 * time.Second
	return cfg
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// testWriter sends log lines to the test's log, so they show only on
// failure.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// requireRuntime skips the test when ONNX Runtime is missing, except
// under CI, where that is a failure.
func requireRuntime(t *testing.T) {
	t.Helper()
	if _, err := inference.FindLibrary(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("ONNX Runtime library not found under CI: %v", err)
		}
		t.Skipf("ONNX Runtime library not found: %v", err)
	}
}

func startNode(t *testing.T, cfg Config) *Node {
	t.Helper()
	requireRuntime(t)
	n, err := Start(cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("close node: %v", err)
		}
	})
	return n
}

// placeDeployment adds a running deployment of model on the test node.
func placeDeployment(cp *fakeControlPlane, model wire.ModelRef) {
	cp.update(func(st *wire.FleetState) {
		st.Keys = testKeys()
		st.Deployments = []wire.Deployment{{
			ID: deploymentID, WorkspaceID: workspaceID, Owner: "team", Name: "detector",
			Region: "us-central1", Desired: wire.DesiredRunning, Model: model, Nodes: []string{testNodeID},
		}}
	})
}

func setDesired(cp *fakeControlPlane, desired string) {
	cp.update(func(st *wire.FleetState) { st.Deployments[0].Desired = desired })
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func predictBody(t *testing.T, image []byte) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	part, err := w.CreateFormFile("file", "bus.jpg")
	if err != nil {
		t.Fatal(err)
	}
	part.Write(image)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.FormDataContentType(), buf.Bytes()
}

func doRequest(method, url, key, contentType string, body []byte) (response, error) {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		return response{}, err
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, b}, err
}

// predictor sends predicts of one image to a node.
type predictor struct {
	t           *testing.T
	addr        string
	contentType string
	body        []byte
}

func newPredictor(t *testing.T, n *Node) *predictor {
	return newPredictorAt(t, n.Addr())
}

func newPredictorAt(t *testing.T, addr string) *predictor {
	image, err := os.ReadFile(filepath.Join(testshared.Dir(t), "images", "bus.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	ct, body := predictBody(t, image)
	return &predictor{t: t, addr: addr, contentType: ct, body: body}
}

func (p *predictor) predict(key string) response {
	p.t.Helper()
	r, err := p.try(key)
	if err != nil {
		p.t.Fatal(err)
	}
	return r
}

func (p *predictor) try(key string) (response, error) {
	return doRequest(http.MethodPost, "http://"+p.addr+"/api/deployments/"+deploymentID+"/predict", key, p.contentType, p.body)
}

func get(t *testing.T, url, key string) response {
	t.Helper()
	r, err := doRequest(http.MethodGet, url, key, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func decodeJSON[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

func modelPath(t *testing.T, name string) string {
	return filepath.Join(testshared.Dir(t), "models", name)
}

func nodeHealthOf(t *testing.T, n *Node) nodeHealth {
	t.Helper()
	return decodeJSON[nodeHealth](t, get(t, "http://"+n.Addr()+"/health", "").body)
}

func waitReady(t *testing.T, n *Node) {
	t.Helper()
	waitFor(t, "node ready", 30*time.Second, func() bool {
		h := nodeHealthOf(t, n)
		if h.Deployments[deploymentID] == wire.ModelFailed {
			t.Fatalf("deployment failed to warm: %+v", h)
		}
		return h.Ready && h.Deployments[deploymentID] == wire.ModelReady
	})
}

// checkPredictOK checks a 200 seed-shaped response that finds the bus.
func checkPredictOK(t *testing.T, r response) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("predict status %d, body %s", r.status, r.body)
	}
	body := decodeJSON[struct {
		Success     bool `json:"success"`
		Predictions []struct {
			Class      string  `json:"class"`
			Confidence float64 `json:"confidence"`
		} `json:"predictions"`
	}](t, r.body)
	if !body.Success {
		t.Errorf("success = false in %s", r.body)
	}
	classes := make(map[string]int)
	for _, p := range body.Predictions {
		classes[p.Class]++
	}
	if classes["bus"] != 1 || classes["person"] < 3 {
		t.Errorf("classes = %v, want one bus and at least three persons", classes)
	}
}

func checkError(t *testing.T, r response, status int, code, text string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	if got := r.header.Get("X-Error-Code"); got != code {
		t.Errorf("X-Error-Code = %q, want %q", got, code)
	}
	var body map[string]string
	if err := json.Unmarshal(r.body, &body); err != nil || len(body) != 1 {
		t.Fatalf("error body %s is not {\"error\": message}", r.body)
	}
	if !strings.Contains(body["error"], text) {
		t.Errorf("error %q does not mention %q", body["error"], text)
	}
}

func statsOf(t *testing.T, n *Node) wire.DeploymentStats {
	t.Helper()
	r, err := doRequestWithSecret("http://"+n.Addr()+wire.NodePathDeploymentStats+deploymentID, testSecret)
	if err != nil {
		t.Fatal(err)
	}
	if r.status != http.StatusOK {
		t.Fatalf("stats status %d, body %s", r.status, r.body)
	}
	return decodeJSON[wire.DeploymentStats](t, r.body)
}

func doRequestWithSecret(url, secret string) (response, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return response{}, err
	}
	req.Header.Set(wire.HeaderSecret, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, b}, err
}

func TestNodeServesDeployment(t *testing.T) {
	cp := startFakeControlPlane(t)
	model := cp.addBlob(modelPath(t, "yolov8n_int8_320.onnx"), "model-v8")
	placeDeployment(cp, model)
	n := startNode(t, testConfig(t, cp.url, t.TempDir()))
	waitReady(t, n)
	p := newPredictor(t, n)

	checkPredictOK(t, p.predict(keyOwner))
	checkPredictOK(t, p.predict(strings.ToUpper(keyOwner[:3])+keyOwner[3:]))
	r := p.predict(keyOwner)
	checkPredictOK(t, r)
	if r.header.Get("X-RateLimit-Limit") != "1000" || r.header.Get("Server-Timing") == "" {
		t.Errorf("headers X-RateLimit-Limit %q, Server-Timing %q", r.header.Get("X-RateLimit-Limit"), r.header.Get("Server-Timing"))
	}
	checkError(t, p.predict(keyUnknown), http.StatusUnauthorized, "UNAUTHORIZED", "invalid or revoked API key")
	checkError(t, p.predict(""), http.StatusUnauthorized, "UNAUTHORIZED", "missing API key")
	checkError(t, p.predict(keyStranger), http.StatusNotFound, "NOT_FOUND", deploymentID)
	other := get(t, "http://"+n.Addr()+"/api/deployments/ffffffffffffffffffffffff/health", keyOwner)
	checkError(t, other, http.StatusNotFound, "NOT_FOUND", "ffffffffffffffffffffffff")

	// Three predicts succeeded. The three that failed on a key or a
	// workspace stay out of the deployment's own stats, which its owner
	// reads, so that requests without access cannot raise its error rate.
	st := statsOf(t, n)
	if st.Requests != 3 || st.Errors != 0 {
		t.Errorf("stats requests %d errors %d, want 3 and 0", st.Requests, st.Errors)
	}
	if len(st.LatenciesMs) != 3 || len(st.Logs) != 3 || len(st.Series) != 1 {
		t.Errorf("stats has %d latencies, %d logs, %d minutes; want 3, 3, 1", len(st.LatenciesMs), len(st.Logs), len(st.Series))
	}
	if len(st.Logs) == 3 && (st.Logs[0].Severity != "INFO" || st.Logs[0].Status != 200) {
		t.Errorf("logs = %+v", st.Logs)
	}
	if len(st.Series) == 1 && (st.Series[0].Requests != 3 || st.Series[0].P50Ms <= 0) {
		t.Errorf("series = %+v", st.Series)
	}
	if r := get(t, "http://"+n.Addr()+wire.NodePathDeploymentStats+deploymentID, ""); r.status != http.StatusForbidden {
		t.Errorf("stats without the secret: status %d, want 403", r.status)
	}

	// Usage counts the admitted predicts, per key.
	waitFor(t, "usage batch", 10*time.Second, func() bool { return cp.usageOf(deploymentID, "key-owner").Requests == 3 })
	if u := cp.usageOf(deploymentID, "key-stranger"); u.Requests != 0 {
		t.Errorf("usage of a key without access = %+v, want none", u)
	}

	h := decodeJSON[deploymentHealth](t, get(t, "http://"+n.Addr()+"/api/deployments/"+deploymentID+"/health", keyOwner).body)
	if !h.Healthy || h.Status != http.StatusOK || h.LatencyMs <= 0 {
		t.Errorf("deployment health = %+v", h)
	}
	waitFor(t, "heartbeat with the ready deployment", 10*time.Second, func() bool {
		hb, ok := cp.lastHeartbeat()
		return ok && hb.Deployments[deploymentID] == wire.ModelReady && hb.HTTPAddr == n.Addr()
	})

	metricsText := string(get(t, "http://"+n.Addr()+"/metrics", "").body)
	for _, want := range []string{
		`yoloplane_predict_requests_total{model="` + deploymentID + `",status="200"} 3`,
		`yoloplane_predict_requests_total{model="` + deploymentID + `",status="401"} 2`,
		`yoloplane_predict_duration_seconds_bucket{stage="inference",model="` + deploymentID + `"`,
		`yoloplane_deployment_request_duration_seconds_count{deployment="` + deploymentID + `"} 6`,
		"yoloplane_node_control_plane_reachable 1",
	} {
		if !strings.Contains(metricsText, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestNodeStopStartReplace(t *testing.T) {
	cp := startFakeControlPlane(t)
	v8 := cp.addBlob(modelPath(t, "yolov8n_int8_320.onnx"), "model-v8")
	v11 := cp.addBlob(modelPath(t, "yolo11n_int8_320.onnx"), "model-v11")
	placeDeployment(cp, v8)
	n := startNode(t, testConfig(t, cp.url, t.TempDir()))
	waitReady(t, n)
	p := newPredictor(t, n)

	setDesired(cp, wire.DesiredStopped)
	waitFor(t, "deployment stopped", 10*time.Second, func() bool {
		return nodeHealthOf(t, n).Deployments[deploymentID] == statusStopped
	})
	checkError(t, p.predict(keyOwner), http.StatusConflict, "CONFLICT", "POST /api/deployments/"+deploymentID+"/start")
	waitFor(t, "session released", 10*time.Second, func() bool { return activeSHA(n) == "" })

	setDesired(cp, wire.DesiredRunning)
	waitReady(t, n)
	checkPredictOK(t, p.predict(keyOwner))

	// Predicts run in a loop while the model is replaced: every one of
	// them must succeed, on the old model and then on the new one.
	stop := make(chan struct{})
	results := make(chan response, 1)
	errs := make(chan error, 1)
	go func() {
		defer close(results)
		for {
			select {
			case <-stop:
				return
			default:
			}
			r, err := p.try(keyOwner)
			if err != nil {
				errs <- err
				return
			}
			results <- r
		}
	}()
	cp.update(func(st *wire.FleetState) {
		d := &st.Deployments[0]
		prev := d.Model
		d.Previous, d.Model = &prev, v11
	})
	replaced := func() bool { return activeSHA(n) == v11.SHA256 }
	count, after := 0, 0
	deadline := time.After(60 * time.Second)
	for after < 3 {
		select {
		case r, ok := <-results:
			if !ok {
				t.Fatal(<-errs)
			}
			count++
			checkPredictOK(t, r)
			if replaced() {
				after++
			}
		case <-deadline:
			t.Fatal("timed out waiting for predicts on the replaced model")
		}
	}
	close(stop)
	for r := range results {
		count++
		checkPredictOK(t, r)
	}
	if count < 4 {
		t.Errorf("only %d predicts ran during the replace", count)
	}
	if st := statsOf(t, n); st.Requests != int64(count)+2 || st.Errors != 1 {
		t.Errorf("stats requests %d errors %d, want %d and 1", st.Requests, st.Errors, count+2)
	}
}

// activeSHA returns the model file of the deployment's serving session, or
// "" when it has none.
func activeSHA(n *Node) string {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if rt := n.deploys[deploymentID]; rt != nil && rt.active != nil {
		return rt.active.ref.SHA256
	}
	return ""
}

func TestNodeQuotaExhausted(t *testing.T) {
	cp := startFakeControlPlane(t)
	model := cp.addBlob(modelPath(t, "yolov8n_int8_320.onnx"), "model-v8")
	placeDeployment(cp, model)
	cp.mu.Lock()
	cp.quotaLeft["key-owner"] = 2
	cp.mu.Unlock()
	cfg := testConfig(t, cp.url, t.TempDir())
	cfg.QuotaBatch = 10
	n := startNode(t, cfg)
	waitReady(t, n)
	p := newPredictor(t, n)

	checkPredictOK(t, p.predict(keyOwner))
	r := p.predict(keyOwner)
	checkPredictOK(t, r)
	if got := r.header.Get("X-RateLimit-Remaining"); got != "0" {
		t.Errorf("X-RateLimit-Remaining = %q, want 0", got)
	}
	r = p.predict(keyOwner)
	checkError(t, r, http.StatusTooManyRequests, "RATE_LIMITED", "rate limit")
	if r.header.Get("Retry-After") != "42" || r.header.Get("X-RateLimit-Limit") != "60" || r.header.Get("X-RateLimit-Reset") == "" {
		t.Errorf("429 headers: Retry-After %q, X-RateLimit-Limit %q, X-RateLimit-Reset %q",
			r.header.Get("Retry-After"), r.header.Get("X-RateLimit-Limit"), r.header.Get("X-RateLimit-Reset"))
	}
	// The denial is cached until Retry-After: a second 429 sends no
	// quota request.
	cp.mu.Lock()
	calls := cp.quotaCalls
	cp.mu.Unlock()
	checkError(t, p.predict(keyOwner), http.StatusTooManyRequests, "RATE_LIMITED", "rate limit")
	cp.mu.Lock()
	if cp.quotaCalls != calls {
		t.Errorf("quota calls went from %d to %d during a cached denial", calls, cp.quotaCalls)
	}
	cp.mu.Unlock()
	if st := statsOf(t, n); st.Requests != 4 || st.Errors != 2 {
		t.Errorf("stats requests %d errors %d, want 4 and 2", st.Requests, st.Errors)
	}
}

func TestNodeServesWithoutControlPlane(t *testing.T) {
	cp := startFakeControlPlane(t)
	model := cp.addBlob(modelPath(t, "yolov8n_int8_320.onnx"), "model-v8")
	placeDeployment(cp, model)
	dataDir := t.TempDir()
	cfg := testConfig(t, cp.url, dataDir)
	n := startNode(t, cfg)
	waitReady(t, n)
	p := newPredictor(t, n)
	checkPredictOK(t, p.predict(keyOwner))

	cp.stop()
	waitFor(t, "control plane unreachable", 10*time.Second, func() bool {
		return nodeHealthOf(t, n).ControlPlane == "unreachable"
	})
	checkPredictOK(t, p.predict(keyOwner))
	h := nodeHealthOf(t, n)
	if !h.Ready || h.StateVersion != 1 || h.StateAgeSeconds < 0 {
		t.Errorf("health while the control plane is down = %+v", h)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}

	// A restarted node serves from the persisted state and the stored
	// model file before the control plane responds.
	restarted := startNode(t, cfg)
	waitReady(t, restarted)
	p = newPredictor(t, restarted)
	checkPredictOK(t, p.predict(keyOwner))
	if h := nodeHealthOf(t, restarted); h.ControlPlane == "reachable" || h.StateVersion != 1 {
		t.Errorf("health of the restarted node = %+v", h)
	}
}

func TestNodeReportsLoadFailure(t *testing.T) {
	cp := startFakeControlPlane(t)
	notModel := filepath.Join(t.TempDir(), "not-a-model.onnx")
	if err := os.WriteFile(notModel, []byte("not an ONNX model"), 0o600); err != nil {
		t.Fatal(err)
	}
	placeDeployment(cp, cp.addBlob(notModel, "broken"))
	n := startNode(t, testConfig(t, cp.url, t.TempDir()))

	var hb wire.Heartbeat
	waitFor(t, "heartbeat with the failed deployment", 30*time.Second, func() bool {
		var ok bool
		hb, ok = cp.lastHeartbeat()
		return ok && hb.Deployments[deploymentID] == wire.ModelFailed
	})
	if hb.Errors[deploymentID] == "" {
		t.Errorf("heartbeat errors = %v, want the load failure", hb.Errors)
	}
	p := newPredictor(t, n)
	checkError(t, p.predict(keyOwner), http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE", "failed to load")
	if h := nodeHealthOf(t, n); h.Ready {
		t.Errorf("node with a failed deployment reports ready: %+v", h)
	}
}

func TestNodeWarmingReturnsRetryAfter(t *testing.T) {
	cp := startFakeControlPlane(t)
	// A model file the control plane cannot serve keeps the deployment
	// warming, with downloads retried.
	placeDeployment(cp, wire.ModelRef{ModelID: "missing", SHA256: strings.Repeat("ab", 32)})
	n := startNode(t, testConfig(t, cp.url, t.TempDir()))
	waitFor(t, "state applied", 10*time.Second, func() bool { return nodeHealthOf(t, n).StateVersion == 1 })
	p := newPredictor(t, n)
	r := p.predict(keyOwner)
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" {
		t.Errorf("predict before the model is warm: status %d, Retry-After %q, body %s", r.status, r.header.Get("Retry-After"), r.body)
	}
}

func TestConfigValidate(t *testing.T) {
	valid := DefaultConfig()
	valid.NodeID, valid.ControlPlane, valid.Secret, valid.DataDir = "n1", "http://127.0.0.1:8080", "s", "/tmp/x"
	if err := valid.Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	cases := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"no node ID", func(c *Config) { c.NodeID = "" }, "node ID"},
		{"unknown region", func(c *Config) { c.Region = "mars-1" }, `"mars-1"`},
		{"bad listen", func(c *Config) { c.Listen = "8080" }, "listen address"},
		{"bad control plane", func(c *Config) { c.ControlPlane = "10.0.0.1:8080" }, "control-plane URL"},
		{"no secret", func(c *Config) { c.Secret = "" }, "secret"},
		{"no data dir", func(c *Config) { c.DataDir = "" }, "data directory"},
		{"zero capacity", func(c *Config) { c.Capacity = 0 }, "capacity"},
		{"backoff order", func(c *Config) { c.BackoffMax = time.Millisecond }, "maximum backoff"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := valid
			tc.change(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate() = %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
}

func TestStatsBounds(t *testing.T) {
	s := newStats()
	start := time.Unix(1_700_000_000, 0)
	for i := range maxLogs + 10 {
		status := http.StatusOK
		if i%2 == 1 {
			status = http.StatusInternalServerError
		}
		s.observe(start.Add(time.Duration(i)*time.Second), "POST", "/p", status, time.Duration(i)*time.Millisecond, "")
	}
	st := s.snapshot("d", "n")
	if st.Requests != maxLogs+10 || st.Errors != (maxLogs+10)/2 {
		t.Errorf("requests %d errors %d", st.Requests, st.Errors)
	}
	if len(st.Logs) != maxLogs || st.Logs[len(st.Logs)-1].LatencyMs != float64(maxLogs+9) || st.Logs[0].LatencyMs != 10 {
		t.Errorf("log ring holds %d entries from %v to %v ms", len(st.Logs), st.Logs[0].LatencyMs, st.Logs[len(st.Logs)-1].LatencyMs)
	}
	if st.Logs[1].Severity != "ERROR" {
		t.Errorf("severity of a 500 = %q, want ERROR", st.Logs[1].Severity)
	}
	var sum int64
	for _, m := range st.Series {
		sum += m.Requests
	}
	if len(st.Series) > seriesMinutes || sum > st.Requests {
		t.Errorf("series of %d minutes counts %d requests", len(st.Series), sum)
	}
}
