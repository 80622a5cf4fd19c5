package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/yoloplane/yoloplane/internal/testshared"
)

// TestServeShutdownWithDeployment checks that serve exits with status 0
// soon after SIGTERM while its in-process node serves a deployment and
// follows the fleet state with a long poll.
func TestServeShutdownWithDeployment(t *testing.T) {
	s := startServer(t, t.TempDir(), "--model", testshared.Path(t, "models", "yolov8n_int8_320.onnx"))
	r := s.do(t, http.MethodPost, "/api/deployments", "application/json",
		strings.NewReader(`{"modelId":"`+s.firstModelID(t)+`","region":"us-central1"}`), true)
	if r.status != http.StatusCreated {
		t.Fatalf("create deployment: status %d: %s", r.status, r.body)
	}
	var created struct{ ID string }
	if err := json.Unmarshal(r.body, &created); err != nil {
		t.Fatal(err)
	}
	s.waitDeployment(t, created.ID, "ready", func(d deploymentView) bool { return d.Status == "ready" }, nil)
	r = s.predict(t, "/api/deployments/"+created.ID+"/predict", testshared.Read(t, "images", "bus.jpg"), nil)
	if r.status != http.StatusOK {
		t.Fatalf("predict before shutdown: status %d: %s", r.status, r.body)
	}

	// stopServer fails the test after 30 s, a bound that only catches a
	// hang. A watch held open used to keep the process alive for up to its
	// 25 s wait.
	started := time.Now()
	stopServer(t, s)
	t.Logf("serve exited %v after SIGTERM", time.Since(started).Round(time.Millisecond))
}
