package api

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/yoloplane/yoloplane/controlplane/state"
	"github.com/yoloplane/yoloplane/internal/contract"
	"github.com/yoloplane/yoloplane/shared/ids"
)

func TestAPIKeyLifecycle(t *testing.T) {
	e := newEnv(t)
	e.addUser("ada")
	res := e.do("ada", "POST", "/api/api-keys", `{"name":"ci"}`)
	if res.status != http.StatusCreated {
		t.Fatalf("create key: status %d: %s", res.status, res.body)
	}
	created := res.json(t)
	key, _ := created["key"].(string)
	if !regexp.MustCompile(`^ul_[0-9a-f]{40}$`).MatchString(key) {
		t.Fatalf("created key %q is not ul_ and 40 hex characters", key)
	}
	list := e.do("ada", "GET", "/api/api-keys", "")
	contract.Validate(t, "ListApiKeysResponse", list.body)
	if strings.Contains(string(list.body), key) || strings.Contains(string(list.body), HashKey(key)) {
		t.Errorf("key list shows the key or its hash: %s", list.body)
	}
	e.keys["ci"] = key
	if got := e.do("ci", "GET", "/api/projects", "").status; got != http.StatusOK {
		t.Fatalf("request with the new key: status %d", got)
	}
	if got := e.do("ada", "DELETE", "/api/api-keys", `{"keyId":"`+created["keyId"].(string)+`"}`).status; got != http.StatusOK {
		t.Fatalf("delete key: status %d", got)
	}
	if got := e.do("ci", "GET", "/api/projects", "").status; got != http.StatusUnauthorized {
		t.Errorf("request with the revoked key: status %d, want 401", got)
	}
}

func TestProjectOwnerRoutesMatchContract(t *testing.T) {
	e := newEnv(t)
	e.addUser("ada")
	e.must(&state.CreateWorkspace{WorkspaceID: ids.New(), Slug: "ada-lab", Name: "Lab", OwnerID: e.users["ada"], CreatedAt: e.clock()})
	res := e.do("ada", "POST", "/api/projects", `{"project":"cars","name":"Cars","description":"d"}`)
	if res.status != http.StatusCreated {
		t.Fatalf("create: status %d: %s", res.status, res.body)
	}
	contract.Validate(t, "CreateProjectResponse", res.body)
	e.do("ada", "POST", "/api/models", `{"project":"cars","model":"yolo"}`)
	for _, c := range []struct{ method, path, body, schema string }{
		{"GET", "/api/projects/ada", "", "ListProjectsResponse"},
		{"GET", "/api/projects/ada/cars", "", "ProjectDetailResponse"},
		{"GET", "/api/models/ada/cars", "", "ListModelsResponse"},
		{"GET", "/api/models/ada/cars/yolo", "", "ModelDetailResponse"},
		{"PATCH", "/api/models/ada/cars/yolo", `{"name":"Yolo"}`, "ModelPatchResponse"},
		{"PATCH", "/api/projects/ada/cars", `{"name":"Cars 2"}`, "ProjectPatchResponse"},
		{"POST", "/api/projects/ada/cars/clone", `{"owner":"ada-lab"}`, "CloneProjectResponse"},
		{"DELETE", "/api/models/ada/cars/yolo", "", "DeleteModelResponse"},
		{"DELETE", "/api/projects/ada/cars", "", "DeleteProjectResponse"},
		{"GET", "/api/trash", "", "ListTrashResponse"},
	} {
		res := e.do("ada", c.method, c.path, c.body)
		if res.status >= 300 {
			t.Errorf("%s %s: status %d: %s", c.method, c.path, res.status, res.body)
			continue
		}
		contract.Validate(t, c.schema, res.body)
	}
}

func TestProjectListPaginates(t *testing.T) {
	e := newEnv(t)
	e.addUser("ada")
	for _, slug := range []string{"a", "b", "c"} {
		e.advance(time.Second)
		e.do("ada", "POST", "/api/projects", `{"name":"`+slug+`"}`)
	}
	first := e.do("ada", "GET", "/api/projects?limit=2", "").json(t)
	cursor, _ := first["nextCursor"].(string)
	if len(first["projects"].([]any)) != 2 || cursor == "" {
		t.Fatalf("first page = %v, want 2 projects and a cursor", first)
	}
	second := e.do("ada", "GET", "/api/projects?limit=2&cursor="+cursor, "").json(t)
	if got := second["projects"].([]any); len(got) != 1 || got[0].(map[string]any)["slug"] != "c" {
		t.Errorf("second page = %v, want project c", got)
	}
	if got := e.do("ada", "GET", "/api/projects?limit=501", "").status; got != http.StatusBadRequest {
		t.Errorf("limit 501: status %d, want 400", got)
	}
}

func TestCloneIntoSameWorkspaceRejected(t *testing.T) {
	e := newEnv(t)
	e.addUser("ada")
	e.do("ada", "POST", "/api/projects", `{"project":"cars","name":"Cars"}`)
	e.do("ada", "POST", "/api/models", `{"project":"cars","model":"yolo"}`)
	for _, c := range []struct{ path, body, want string }{
		{"/api/projects/ada/cars/clone", `{"owner":"ada","project":"x"}`, "You cannot clone a project to the same workspace."},
		{"/api/models/ada/cars/yolo/clone", `{"owner":"ada","project":"cars","model":"x"}`, "You cannot clone a model to the same workspace."},
	} {
		res := e.do("ada", "POST", c.path, c.body)
		if res.status != http.StatusForbidden || res.json(t)["error"] != c.want {
			t.Errorf("POST %s: %d %s, want 403 %q", c.path, res.status, res.body, c.want)
		}
	}
}

func TestTrashRestoreAndPurge(t *testing.T) {
	e := newEnv(t)
	e.addUser("ada")
	vars := e.fill(e.workspace("ada").ID)
	m, _ := e.fsm.ModelByID(vars["modelId"])
	if got := e.do("ada", "DELETE", "/api/projects/"+vars["projectId"], "").status; got != http.StatusOK {
		t.Fatalf("delete project: status %d", got)
	}
	if got := e.do("ada", "GET", "/api/models/"+vars["modelId"], "").status; got != http.StatusNotFound {
		t.Errorf("model of a trashed project: status %d, want 404", got)
	}
	res := e.do("ada", "POST", "/api/trash", `{"id":"`+vars["projectId"]+`","type":"project"}`)
	contract.Validate(t, "RestoreTrashResponse", res.body)
	if res.json(t)["restoredModels"] != float64(1) {
		t.Errorf("restore: %s, want 1 restored model", res.body)
	}
	if got := e.do("ada", "GET", "/api/models/"+vars["modelId"], "").status; got != http.StatusOK {
		t.Errorf("model after restore: status %d, want 200", got)
	}
	e.do("ada", "DELETE", "/api/projects/"+vars["projectId"], "")
	e.advance(TrashRetention - time.Hour)
	if _, err := e.srv.purge("", e.clock().Add(-TrashRetention)); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.fsm.ProjectByID(vars["projectId"]); !ok {
		t.Fatalf("project purged before 30 days")
	}
	e.advance(2 * time.Hour)
	if _, err := e.srv.purge("", e.clock().Add(-TrashRetention)); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.fsm.ProjectByID(vars["projectId"]); ok {
		t.Errorf("project kept after 30 days in the trash")
	}
	if e.blobs.Has(m.FileSHA256) {
		t.Errorf("blob of the purged model is still stored")
	}
}

func TestUploadsAndDownloads(t *testing.T) {
	e := newEnv(t)
	e.addUser("ada")
	e.do("ada", "POST", "/api/projects", `{"project":"cars","name":"Cars"}`)
	pt := e.upload("ada", "best.pt", "pt weights")
	if pt.status != http.StatusCreated {
		t.Fatalf("upload .pt: status %d: %s", pt.status, pt.body)
	}
	contract.Validate(t, "CreateModelResponse", pt.body)
	m, _ := e.fsm.ModelByID(pt.json(t)["id"].(string))
	if m.Status != state.ModelStatusNeedsExport || m.Format != state.FormatPyTorch {
		t.Errorf("uploaded .pt has status %s format %s, want needs_export pt", m.Status, m.Format)
	}
	bad := e.upload("ada", "broken.onnx", "not onnx")
	if bad.status != http.StatusUnprocessableEntity || !strings.Contains(string(bad.body), "output layout") {
		t.Errorf("unusable .onnx: %d %s, want 422 with the reason", bad.status, bad.body)
	}
	files := e.do("ada", "GET", "/api/models/ada/cars/best/files", "")
	contract.Validate(t, "ModelFilesResponse", files.body)
	url := files.json(t)["files"].([]any)[0].(map[string]any)["downloadUrl"].(string)
	path := url[strings.Index(url, "/files/"):]
	if got := e.do("", "GET", path, ""); got.status != http.StatusOK || string(got.body) != "pt weights" {
		t.Errorf("signed download: %d %q", got.status, got.body)
	}
	if got := e.do("", "GET", strings.Replace(path, "signature=", "signature=0", 1), "").status; got != http.StatusForbidden {
		t.Errorf("tampered signature: status %d, want 403", got)
	}
	e.advance(downloadURLTTL + time.Second)
	if got := e.do("", "GET", path, "").status; got != http.StatusForbidden {
		t.Errorf("expired link: status %d, want 403", got)
	}
}

func TestActivityRecordsMutations(t *testing.T) {
	e := newEnv(t)
	e.addUser("ada")
	e.do("ada", "POST", "/api/projects", `{"project":"cars","name":"Cars"}`)
	e.advance(48 * time.Hour)
	e.do("ada", "POST", "/api/projects", `{"project":"boats","name":"Boats"}`)
	all := e.do("ada", "GET", "/api/activity", "").json(t)["events"].([]any)
	if len(all) != 2 {
		t.Fatalf("events = %v, want 2", all)
	}
	if got := e.do("ada", "GET", "/api/activity?search=BOATS", "").json(t)["events"].([]any); len(got) != 1 {
		t.Errorf("search boats: %d events, want 1", len(got))
	}
	if got := e.do("ada", "GET", "/api/activity?endDate=2025-03-04", "").json(t)["events"].([]any); len(got) != 1 {
		t.Errorf("endDate filter: %d events, want 1", len(got))
	}
	e.do("ada", "POST", "/api/activity/mark-seen", "")
	e.do("ada", "POST", "/api/activity/archive", `{"eventIds":["`+all[0].(map[string]any)["id"].(string)+`"]}`)
	left := e.do("ada", "GET", "/api/activity", "").json(t)["events"].([]any)
	if len(left) != 1 || left[0].(map[string]any)["seen"] != true {
		t.Errorf("after mark-seen and archive: %v, want one seen event", left)
	}
}

// upload posts a multipart model upload into the project cars of user.
func (e *env) upload(user, name, content string) response {
	boundary := ids.New()
	body := "--" + boundary + "\r\nContent-Disposition: form-data; name=\"project\"\r\n\r\ncars\r\n" +
		"--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + name + "\"\r\n" +
		"Content-Type: application/octet-stream\r\n\r\n" + content + "\r\n--" + boundary + "--\r\n"
	return e.doMultipart(user, boundary, body)
}
