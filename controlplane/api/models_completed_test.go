package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/yoloplane/yoloplane/controlplane/state"
	"github.com/yoloplane/yoloplane/shared/ids"
)

func TestListCompletedModels(t *testing.T) {
	e := newEnv(t)
	e.addUser("ada")
	e.addUser("bob")
	ready := e.addDeployableModel("ada")
	e.must(&state.CreateModel{ModelID: ids.New(), ProjectID: ready.ProjectID, Slug: "raw", Name: "raw",
		Format: state.FormatPyTorch, FileSHA256: strings.Repeat("b", 64), FileSize: 10,
		Status: state.ModelStatusNeedsExport, CreatedAt: e.clock()})
	e.addDeployableModel("bob")

	res := e.do("ada", "GET", "/api/models/completed", "")
	if res.status != http.StatusOK {
		t.Fatalf("list completed: status %d: %s", res.status, res.body)
	}
	body := res.json(t)
	models, _ := body["models"].([]any)
	if len(models) != 1 {
		t.Fatalf("completed models = %s, want only the ready model of ada", res.body)
	}
	if id := models[0].(map[string]any)["id"]; id != ready.ID {
		t.Errorf("completed model id = %v, want %s", id, ready.ID)
	}
	if body["total"] != float64(1) {
		t.Errorf("total = %v, want 1", body["total"])
	}

	if got := e.do("ada", "GET", "/api/models/completed?owner=bob", "").status; got != http.StatusNotFound {
		t.Errorf("completed models of another user's workspace: status %d, want 404", got)
	}
	if got := e.do("ada", "GET", "/api/models/completed?task=segment", "").json(t)["models"]; len(got.([]any)) != 0 {
		t.Errorf("completed segment models = %v, want none", got)
	}
	if got := e.do("ada", "GET", "/api/models/completed?limit=0", "").status; got != http.StatusBadRequest {
		t.Errorf("limit=0: status %d, want 400", got)
	}
}
