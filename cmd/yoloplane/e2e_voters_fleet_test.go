package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/yoloplane/yoloplane/internal/testshared"
)

// TestVoterClusterServesDeployment runs three voters and one data-plane node
// that heartbeats to n3, which is not the bootstrapping voter. A model
// uploaded through n1 and deployed through n2 becomes ready on the node and
// serves predicts through every voter.
func TestVoterClusterServesDeployment(t *testing.T) {
	vs, key := startThreeVoters(t)
	voter := func(i int) *server {
		// The node reads the cluster secret from the first voter's data
		// directory; every voter shares it.
		return &server{baseURL: "http://" + vs[i].listen, key: key, dataDir: vs[0].dataDir}
	}
	startDataNode(t, voter(2), "us-a", "us-central1")

	r := voter(0).do(t, http.MethodPost, "/api/projects", "application/json", strings.NewReader(`{"name":"default"}`), true)
	if r.status != http.StatusCreated && r.status != http.StatusOK {
		t.Fatalf("create project through n1: status %d: %s", r.status, r.body)
	}
	r = voter(0).uploadModel(t, "bus-model.onnx", testshared.Read(t, "models", "yolov8n_int8_320.onnx"))
	if r.status != http.StatusCreated && r.status != http.StatusOK {
		t.Fatalf("upload model through n1: status %d: %s", r.status, r.body)
	}
	var model struct{ ID string }
	if err := json.Unmarshal(r.body, &model); err != nil || model.ID == "" {
		t.Fatalf("upload response has no id: %v: %s", err, r.body)
	}

	var created struct{ ID string }
	waitFor(t, "model on n2", 20*time.Second, func() bool {
		r = voter(1).do(t, http.MethodPost, "/api/deployments", "application/json",
			strings.NewReader(`{"modelId":"`+model.ID+`","region":"us-central1","name":"bus"}`), true)
		return r.status == http.StatusCreated && json.Unmarshal(r.body, &created) == nil && created.ID != ""
	})
	ready := func(d deploymentView) bool { return d.Status == "ready" && d.ServiceURL != "" }
	voter(1).waitDeployment(t, created.ID, "ready", ready, nil)

	bus := testshared.Read(t, "images", "bus.jpg")
	for i := range vs {
		r := voter(i).predict(t, "/api/deployments/"+created.ID+"/predict", bus, nil)
		if r.status != http.StatusOK {
			t.Errorf("predict through voter n%d: status %d: %s", i+1, r.status, r.body)
			continue
		}
		if c := busCounts(t, r.body); c["person"] < 3 || c["bus"] != 1 {
			t.Errorf("predict through voter n%d: detections above 0.5 = %v, want at least 3 person and 1 bus", i+1, c)
		}
	}
}
