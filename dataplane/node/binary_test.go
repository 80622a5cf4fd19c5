package node

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/yoloplane/yoloplane/shared/wire"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestBinaryServesDeployment builds the yoloplane binary, runs
// `yoloplane dataplane` against the fake control plane and predicts
// through it.
func TestBinaryServesDeployment(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	requireRuntime(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "yoloplane")
	build := exec.Command("go", "build", "-o", bin, "github.com/yoloplane/yoloplane/cmd/yoloplane")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	cp := startFakeControlPlane(t)
	placeDeployment(cp, cp.addBlob(modelPath(t, "yolov8n_int8_320.onnx"), "model-v8"))
	secretFile := filepath.Join(dir, "cluster.secret")
	if err := os.WriteFile(secretFile, []byte(testSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	listen := freeAddr(t)
	cmd := exec.Command(bin, "dataplane", "--node-id", testNodeID, "--region", "us-central1",
		"--listen", listen, "--gossip", freeAddr(t), "--control-plane", cp.url,
		"--data", filepath.Join(dir, "data"), "--secret-file", secretFile, "--threads", "1", "--log-level", "warn")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})

	waitFor(t, "node ready", 60*time.Second, func() bool {
		resp, err := http.Get("http://" + listen + "/health")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var h nodeHealth
		return json.NewDecoder(resp.Body).Decode(&h) == nil && h.Ready && h.Deployments[deploymentID] == wire.ModelReady
	})
	p := newPredictorAt(t, listen)
	checkPredictOK(t, p.predict(keyOwner))
	checkError(t, p.predict(keyUnknown), http.StatusUnauthorized, "UNAUTHORIZED", "invalid or revoked API key")
	waitFor(t, "heartbeat with a gossip address", 10*time.Second, func() bool {
		hb, ok := cp.lastHeartbeat()
		return ok && hb.GossipAddr != "" && hb.Deployments[deploymentID] == wire.ModelReady
	})

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		exited <- err
		if err != nil {
			t.Errorf("dataplane exited with %v after SIGTERM; stderr:\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("dataplane still running 30s after SIGTERM; stderr:\n%s", stderr.String())
	}
	if u := cp.usageOf(deploymentID, "key-owner"); u.Requests != 1 {
		t.Errorf("usage after shutdown = %+v, want the one predict sent in the last batch", u)
	}
}
