package main

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/yoloplane/yoloplane/internal/testshared"
)

// TestTeamKeyStaysInTeam checks that a key created for a team workspace
// cannot see or change the personal workspace of the user who created it,
// while the personal key still reaches the team.
func TestTeamKeyStaysInTeam(t *testing.T) {
	s := startServer(t, t.TempDir(), "--model", testshared.Path(t, "models", "yolov8n_int8_320.onnx"))
	modelID := s.firstModelID(t)
	teamKey := freeTeamKey(t, s.baseURL, s.key, "scope-team")

	status, _, body, err := request("GET", s.baseURL+"/api/models", teamKey, nil)
	if err != nil || status != http.StatusOK {
		t.Fatalf("list models with the team key: status %d, err %v: %s", status, err, body)
	}
	var list struct{ Total int }
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatal(err)
	}
	if list.Total != 0 {
		t.Errorf("team key lists %d models, want 0: the personal workspace's models leaked: %s", list.Total, body)
	}
	for _, c := range []struct{ method, path string }{
		{"GET", "/api/models/" + modelID},
		{"DELETE", "/api/models/" + modelID},
		{"GET", "/api/projects/yoloplane/default"},
	} {
		status, _, body, err := request(c.method, s.baseURL+c.path, teamKey, nil)
		if err != nil || status != http.StatusNotFound {
			t.Errorf("%s %s with the team key: status %d, err %v, want 404: %s", c.method, c.path, status, err, body)
		}
	}
	if status, _, body, err := request("GET", s.baseURL+"/api/models/"+modelID, s.key, nil); err != nil || status != http.StatusOK {
		t.Errorf("the personal key lost its own model: status %d, err %v: %s", status, err, body)
	}
	if status, _, body, err := request("GET", s.baseURL+"/api/api-keys?owner=scope-team", s.key, nil); err != nil || status != http.StatusOK {
		t.Errorf("the personal key cannot reach the team: status %d, err %v: %s", status, err, body)
	}
}

func TestLastPersonalKeyNotRevoked(t *testing.T) {
	s := startServer(t, t.TempDir())
	status, _, body, err := request("GET", s.baseURL+"/api/api-keys", s.key, nil)
	if err != nil || status != http.StatusOK {
		t.Fatalf("list keys: status %d, err %v: %s", status, err, body)
	}
	var list struct {
		Keys []struct {
			KeyID string `json:"keyId"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(body, &list); err != nil || len(list.Keys) != 1 {
		t.Fatalf("list keys: %v: %s", err, body)
	}
	status, _, body, _ = request("DELETE", s.baseURL+"/api/api-keys", s.key, []byte(`{"keyId":"`+list.Keys[0].KeyID+`"}`))
	if status != http.StatusConflict {
		t.Errorf("revoke the last personal key: status %d, want 409: %s", status, body)
	}
	if status, _, body, _ := request("GET", s.baseURL+"/api/api-keys", s.key, nil); status != http.StatusOK {
		t.Errorf("admin key after the refused revoke: status %d: %s", status, body)
	}
}
