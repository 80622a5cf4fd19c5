package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/yoloplane/yoloplane/internal/testshared"
)

// TestTeamKeyStaysInTeam checks that a key created for a team workspace
// cannot see or change the personal workspace or the account of the user
// who created it, while the personal key still reaches the team.
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
	// The contract lists no 403 for reading an owner-route project, so the
	// rejection there is a 400.
	for _, c := range []struct {
		method, path, body string
		want               int
	}{
		{"GET", "/api/models/" + modelID, "", http.StatusForbidden},
		{"DELETE", "/api/models/" + modelID, "", http.StatusForbidden},
		{"GET", "/api/projects/yoloplane/default", "", http.StatusBadRequest},
		{"GET", "/api/projects?owner=yoloplane", "", http.StatusForbidden},
		{"POST", "/api/api-keys", `{"name":"escape","owner":"yoloplane"}`, http.StatusForbidden},
		{"POST", "/api/teams/create", `{"name":"Side Team","slug":"side-team"}`, http.StatusForbidden},
		{"POST", "/api/settings", `{"bio":"changed"}`, http.StatusForbidden},
		{"DELETE", "/api/settings/icon", "", http.StatusForbidden},
		{"POST", "/api/invites/accept", `{"token":"inv_` + strings.Repeat("0", 40) + `"}`, http.StatusForbidden},
	} {
		var body []byte
		if c.body != "" {
			body = []byte(c.body)
		}
		status, _, resp, err := request(c.method, s.baseURL+c.path, teamKey, body)
		if err != nil || status != c.want {
			t.Errorf("%s %s with the team key: status %d, err %v, want %d: %s", c.method, c.path, status, err, c.want, resp)
		}
		if !strings.Contains(string(resp), `this API key acts only in team \"scope-team\"`) {
			t.Errorf("%s %s with the team key: error %s does not name the key's team", c.method, c.path, resp)
		}
	}
	if status, _, body, _ := request("GET", s.baseURL+"/api/teams", s.key, nil); status != http.StatusOK || strings.Contains(string(body), "side-team") {
		t.Errorf("teams after the rejected create: status %d: %s", status, body)
	}
	if status, _, body, err := request("GET", s.baseURL+"/api/models/"+modelID, s.key, nil); err != nil || status != http.StatusOK {
		t.Errorf("the personal key lost its own model: status %d, err %v: %s", status, err, body)
	}
	if status, _, body, err := request("GET", s.baseURL+"/api/api-keys?owner=scope-team", s.key, nil); err != nil || status != http.StatusOK {
		t.Errorf("the personal key cannot reach the team: status %d, err %v: %s", status, err, body)
	}
}

// TestJSONBodyChecks checks on the real server that a JSON route takes a
// body without a Content-Type, rejects a form with 415, and names the
// field of a type mismatch without Go internals.
func TestJSONBodyChecks(t *testing.T) {
	s := startServer(t, t.TempDir())
	url := s.baseURL + "/api/settings"
	status, _, body, err := requestWithType("POST", url, s.key, "", []byte(`{"bio":"from a script"}`))
	if err != nil || status != http.StatusOK {
		t.Errorf("settings without a Content-Type: status %d, err %v, want 200: %s", status, err, body)
	}
	status, header, body, err := requestWithType("POST", url, s.key, "application/x-www-form-urlencoded", []byte("bio=form"))
	if err != nil || status != http.StatusUnsupportedMediaType {
		t.Errorf("settings as a form: status %d, err %v, want 415: %s", status, err, body)
	}
	if code := header.Get("X-Error-Code"); code != "UNSUPPORTED_MEDIA_TYPE" {
		t.Errorf("settings as a form: X-Error-Code %q, want UNSUPPORTED_MEDIA_TYPE", code)
	}
	status, _, body, err = request("POST", url, s.key, []byte(`{"bio":5}`))
	if err != nil || status != http.StatusBadRequest {
		t.Errorf("settings with a number bio: status %d, err %v, want 400: %s", status, err, body)
	}
	if !strings.Contains(string(body), `field \"bio\" must be a string, got a number`) {
		t.Errorf("settings with a number bio: error %s does not name the field and its type", body)
	}
	status, _, body, _ = request("GET", url, s.key, nil)
	if status != http.StatusOK || !strings.Contains(string(body), `"bio":"from a script"`) {
		t.Errorf("settings after the checks: status %d: %s", status, body)
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

// TestRejectionWithLargeBody checks that a request rejected before its body
// is read still gets its JSON error, not a reset connection.
func TestRejectionWithLargeBody(t *testing.T) {
	s := startServer(t, t.TempDir())
	image := make([]byte, 4<<20)
	ct, body := multipartBody(t, image, nil)
	status, _, resp, err := requestWithType("POST", s.baseURL+"/api/models/"+strings.Repeat("0", 24)+"/predict", "ul_"+strings.Repeat("0", 40), ct, body.Bytes())
	if err != nil {
		t.Fatalf("predict with an unknown key and a 4 MB body: %v", err)
	}
	if status != http.StatusUnauthorized {
		t.Errorf("status %d, want 401: %s", status, resp)
	}
}

func requestWithType(method, url, key, contentType string, body []byte) (int, http.Header, []byte, error) {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b, err
}
