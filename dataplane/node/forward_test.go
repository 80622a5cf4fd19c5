package node

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/yoloplane/yoloplane/shared/wire"
)

// forwardPredict posts p's body to the node's internal predict route of
// deployment id, as the control plane does.
func forwardPredict(t *testing.T, p *predictor, id, secret, keyID string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+p.addr+wire.NodePathDeploymentPredict+id, bytes.NewReader(p.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", p.contentType)
	req.Header.Set(wire.HeaderSecret, secret)
	req.Header.Set(wire.HeaderKeyID, keyID)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, b}
}

func TestNodeForwardedPredict(t *testing.T) {
	cp := startFakeControlPlane(t)
	model := cp.addBlob(modelPath(t, "yolov8n_int8_320.onnx"), "model-v8")
	placeDeployment(cp, model)
	// An exhausted quota shows that a forwarded predict takes none: the
	// control plane already counted it.
	cp.mu.Lock()
	cp.quotaLeft["key-owner"] = 0
	cp.mu.Unlock()
	n := startNode(t, testConfig(t, cp.url, t.TempDir()))
	waitReady(t, n)
	p := newPredictor(t, n)

	checkPredictOK(t, forwardPredict(t, p, deploymentID, testSecret, "key-owner"))
	r := forwardPredict(t, p, deploymentID, testSecret, "key-owner")
	checkPredictOK(t, r)
	if got := r.header.Get("X-RateLimit-Limit"); got != "" {
		t.Errorf("X-RateLimit-Limit = %q on a forwarded predict, want none", got)
	}
	checkError(t, forwardPredict(t, p, deploymentID, "wrong-secret", "key-owner"), http.StatusForbidden, "FORBIDDEN", wire.HeaderSecret)
	checkError(t, forwardPredict(t, p, "ffffffffffffffffffffffff", testSecret, "key-owner"), http.StatusNotFound, "NOT_FOUND", "ffffffffffffffffffffffff")
	cp.mu.Lock()
	calls := cp.quotaCalls
	cp.mu.Unlock()
	if calls != 0 {
		t.Errorf("quota calls = %d after forwarded predicts, want 0", calls)
	}
	waitFor(t, "usage batch", 10*time.Second, func() bool { return cp.usageOf(deploymentID, "key-owner").Requests == 2 })
}
