package api

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/controlplane/state"
	"github.com/yoloplane/yoloplane/internal/contract"
	"github.com/yoloplane/yoloplane/shared/ids"
)

func TestProfileAndFollowMatchContract(t *testing.T) {
	e := newEnv(t)
	e.addUser("ada")
	e.addUser("bob")
	res := e.do("ada", "POST", "/api/settings", `{"fullName":"Ada L","bio":"maps","socials":{"github":"https://github.com/ada"},"preferences":{"theme":"dark"}}`)
	if res.status != http.StatusOK {
		t.Fatalf("update settings: status %d: %s", res.status, res.body)
	}
	got := e.do("ada", "GET", "/api/settings", "").json(t)
	if got["fullName"] != "Ada L" || got["preferences"].(map[string]any)["theme"] != "dark" {
		t.Errorf("settings after update = %v", got)
	}
	if bad := e.do("ada", "POST", "/api/settings", `{"socials":{"myspace":"x"}}`); bad.status != http.StatusBadRequest {
		t.Errorf("unknown social link: status %d, want 400", bad.status)
	}

	follow := e.do("bob", "PATCH", "/api/users", `{"username":"ada","followed":true}`)
	if follow.status != http.StatusOK {
		t.Fatalf("follow: status %d: %s", follow.status, follow.body)
	}
	contract.Validate(t, "FollowUserResponse", follow.body)
	profile := e.do("bob", "GET", "/api/users?username=ada", "")
	if profile.status != http.StatusOK {
		t.Fatalf("profile: status %d: %s", profile.status, profile.body)
	}
	contract.Validate(t, "PublicUserResponse", profile.body)
	user := profile.json(t)["user"].(map[string]any)
	if user["fullName"] != "Ada L" || user["followerCount"] != 1.0 || user["isFollowed"] != true {
		t.Errorf("profile = %v, want Ada L with one follower, followed", user)
	}
	if self := e.do("ada", "PATCH", "/api/users", `{"username":"ada","followed":true}`); self.status != http.StatusBadRequest {
		t.Errorf("follow self: status %d, want 400", self.status)
	}
	if missing := e.do("ada", "GET", "/api/users?username=nobody", ""); missing.status != http.StatusNotFound {
		t.Errorf("unknown user: status %d, want 404", missing.status)
	}
	if empty := e.do("ada", "GET", "/api/users", ""); empty.status != http.StatusBadRequest {
		t.Errorf("no username: status %d, want 400", empty.status)
	}
}

func TestUsernameCheck(t *testing.T) {
	e := newEnv(t)
	e.addUser("ada")
	e.addUser("alice")
	for _, c := range []struct {
		name             string
		valid, available bool
	}{
		{"grace", true, true},
		{"alice", true, false},
		{"ada", false, false},
		{"abc", false, false},
		{strings.Repeat("a", 33), false, false},
		{"Grace", false, false},
		{"double--dash", false, false},
		{"0123456789abcdef01234567", false, false},
		{"completed", false, false},
		{"settings", false, false},
	} {
		res := e.do("ada", "GET", "/api/username/check?username="+c.name, "")
		if res.status != http.StatusOK {
			t.Errorf("%s: status %d: %s", c.name, res.status, res.body)
			continue
		}
		body := res.json(t)
		if body["valid"] != c.valid || body["available"] != c.available {
			t.Errorf("%s: %v, want valid %v available %v", c.name, body, c.valid, c.available)
		}
		if !c.available && body["reason"] == nil {
			t.Errorf("%s: no reason given for an unavailable name", c.name)
		}
	}
}

func TestAccountSummaryMatchesContract(t *testing.T) {
	e := newEnv(t)
	e.addUser("ada")
	e.do("ada", "POST", "/api/projects", `{"project":"cars","name":"Cars"}`)
	e.do("ada", "POST", "/api/models", `{"project":"cars","model":"yolo"}`)
	e.must(&state.CreateWorkspace{WorkspaceID: ids.New(), Slug: "acme", Name: "Acme", OwnerID: e.users["ada"], CreatedAt: e.clock()})
	res := e.do("ada", "GET", "/api/account/summary", "")
	if res.status != http.StatusOK {
		t.Fatalf("summary: status %d: %s", res.status, res.body)
	}
	contract.Validate(t, "AccountSummaryResponse", res.body)
	body := res.json(t)
	counts := body["counts"].(map[string]any)
	if counts["projects"] != 1.0 || counts["models"] != 1.0 {
		t.Errorf("counts = %v, want one project and one model", counts)
	}
	if teams := body["teams"].([]any); len(teams) != 1 || teams[0].(map[string]any)["role"] != "admin" {
		t.Errorf("teams = %v, want acme as admin", teams)
	}
}

func TestTeamsAndMembers(t *testing.T) {
	e := newEnv(t)
	e.addUser("ada")
	e.addUser("bob")
	res := e.do("ada", "POST", "/api/teams/create", `{"name":"My Team","slug":"my-team"}`)
	if res.status != http.StatusCreated {
		t.Fatalf("create team: status %d: %s", res.status, res.body)
	}
	if dup := e.do("bob", "POST", "/api/teams/create", `{"name":"Other","slug":"my-team"}`); dup.status != http.StatusConflict {
		t.Errorf("taken team slug: status %d, want 409", dup.status)
	}
	if bad := e.do("bob", "POST", "/api/teams/create", `{"name":"x","slug":"trash"}`); bad.status != http.StatusBadRequest {
		t.Errorf("reserved team slug: status %d, want 400", bad.status)
	}
	checkError(t, "transfer ownership", e.do("ada", "POST", "/api/members/transfer-ownership", `{"owner":"my-team","userId":"x"}`),
		http.StatusNotImplemented, "no single owner")
	add := e.do("ada", "POST", "/api/members", `{"owner":"my-team","email":"bob@example.com","role":"editor"}`)
	if add.status != http.StatusCreated || add.json(t)["invite"] == nil {
		t.Errorf("add by unknown email: status %d, want 201 with an invite: %s", add.status, add.body)
	}
	add = e.do("ada", "POST", "/api/members", `{"owner":"my-team","username":"bob","role":"editor"}`)
	if add.status != http.StatusCreated {
		t.Fatalf("add member: status %d: %s", add.status, add.body)
	}
	list := e.do("bob", "GET", "/api/members?owner=my-team", "").json(t)
	if list["total"] != 2.0 {
		t.Errorf("members = %v, want 2", list)
	}
	if teams := e.do("bob", "GET", "/api/teams", "").json(t)["teams"].([]any); len(teams) != 1 || teams[0].(map[string]any)["role"] != "editor" {
		t.Errorf("bob's teams = %v, want my-team as editor", teams)
	}
	bob := e.users["bob"]
	if got := e.do("bob", "PATCH", "/api/members/"+bob+"?owner=my-team", `{"role":"admin"}`).status; got != http.StatusForbidden {
		t.Errorf("editor promotes self: status %d, want 403", got)
	}
	if got := e.do("ada", "PATCH", "/api/members/"+bob+"?owner=my-team", `{"role":"owner"}`).status; got != http.StatusBadRequest {
		t.Errorf("unknown role: status %d, want 400", got)
	}
	if got := e.do("ada", "DELETE", "/api/members/"+e.users["ada"]+"?owner=my-team", "").status; got != http.StatusBadRequest {
		t.Errorf("remove last admin: status %d, want 400", got)
	}
	if got := e.do("ada", "DELETE", "/api/members/"+bob+"?owner=my-team", "").status; got != http.StatusOK {
		t.Errorf("remove member: status %d", got)
	}
	if got := e.do("bob", "GET", "/api/members?owner=my-team", "").status; got != http.StatusNotFound {
		t.Errorf("removed member lists members: status %d, want 404", got)
	}
}

// pngImage returns a PNG of w×h pixels.
func pngImage(t *testing.T, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func (e *env) uploadIcon(user, path string, data []byte) response {
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	fw, err := w.CreateFormFile("file", "icon.png")
	if err != nil {
		e.t.Fatal(err)
	}
	fw.Write(data)
	w.Close()
	var req fasthttp.Request
	req.Header.SetMethod("POST")
	req.SetRequestURI(path)
	req.Header.Set("Authorization", "Bearer "+e.keys[user])
	req.Header.SetContentType(w.FormDataContentType())
	req.SetBody(body.Bytes())
	return e.send(&req)
}

func TestProjectIconUploadAndRemoval(t *testing.T) {
	e := newEnv(t)
	e.addUser("ada")
	id := e.do("ada", "POST", "/api/projects", `{"project":"cars","name":"Cars"}`).json(t)["id"].(string)
	first := pngImage(t, 16, 16)
	if res := e.uploadIcon("ada", "/api/projects/"+id+"/icon", first); res.status != http.StatusOK {
		t.Fatalf("upload icon: status %d: %s", res.status, res.body)
	}
	icon, ok := e.fsm.ProjectIcon(id)
	if !ok || icon.ContentType != "image/png" || !e.blobs.Has(icon.SHA256) {
		t.Fatalf("icon after upload = %+v, %v; want a stored PNG", icon, ok)
	}
	second := pngImage(t, 32, 32)
	if res := e.uploadIcon("ada", "/api/projects/ada/cars/icon", second); res.status != http.StatusOK {
		t.Fatalf("replace icon on the owner route: status %d: %s", res.status, res.body)
	}
	if e.blobs.Has(icon.SHA256) {
		t.Errorf("replaced icon's blob is still stored")
	}
	for _, c := range []struct {
		name   string
		data   []byte
		status int
	}{
		{"text", []byte("hello, not an image"), http.StatusBadRequest},
		{"too many pixels", pngImage(t, 5000, 4000), http.StatusBadRequest},
		{"too many bytes", append(pngImage(t, 8, 8), make([]byte, maxIconBytes)...), http.StatusRequestEntityTooLarge},
	} {
		res := e.uploadIcon("ada", "/api/projects/"+id+"/icon", c.data)
		if res.status != c.status {
			t.Errorf("%s: status %d, want %d: %s", c.name, res.status, c.status, res.body)
		}
		var body map[string]any
		if json.Unmarshal(res.body, &body) != nil || len(body) != 1 || body["error"] == "" {
			t.Errorf("%s: body %s is not an error object", c.name, res.body)
		}
	}
	got := e.do("ada", "GET", "/api/projects/"+id+"/icon", "")
	if got.status != http.StatusOK || !bytes.Equal(got.body, second) {
		t.Errorf("get icon: status %d, %d bytes; want the second image", got.status, len(got.body))
	}
	current, _ := e.fsm.ProjectIcon(id)
	if res := e.do("ada", "DELETE", "/api/projects/"+id+"/icon", ""); res.status != http.StatusOK {
		t.Fatalf("remove icon: status %d: %s", res.status, res.body)
	}
	if e.blobs.Has(current.SHA256) {
		t.Errorf("removed icon's blob is still stored")
	}
	if got := e.do("ada", "GET", "/api/projects/"+id+"/icon", "").status; got != http.StatusNotFound {
		t.Errorf("get removed icon: status %d, want 404", got)
	}
}

func TestTrackDownloadCounts(t *testing.T) {
	e := newEnv(t)
	e.addUser("ada")
	e.do("ada", "POST", "/api/projects", `{"project":"cars","name":"Cars"}`)
	id := e.do("ada", "POST", "/api/models", `{"project":"cars","model":"yolo"}`).json(t)["id"].(string)
	e.do("ada", "POST", "/api/models/"+id+"/track-download", "")
	res := e.do("ada", "POST", "/api/models/ada/cars/yolo/track-download", "")
	if res.status != http.StatusOK || res.json(t)["downloadCount"] != 2.0 {
		t.Errorf("second download: status %d: %s, want a count of 2", res.status, res.body)
	}
	if got := e.fsm.ModelDownloads(id).Count; got != 2 {
		t.Errorf("stored count = %d, want 2", got)
	}
}

func TestRemainingOwnerRoutesMatchContract(t *testing.T) {
	e := newEnv(t)
	e.addUser("ada")
	e.must(&state.CreateWorkspace{WorkspaceID: ids.New(), Slug: "ada-lab", Name: "Lab", OwnerID: e.users["ada"], CreatedAt: e.clock()})
	e.do("ada", "POST", "/api/projects", `{"project":"cars","name":"Cars"}`)
	e.do("ada", "POST", "/api/projects", `{"project":"cars","name":"Cars","owner":"ada-lab"}`)
	id := e.do("ada", "POST", "/api/models", `{"project":"cars","model":"yolo"}`).json(t)["id"].(string)
	clone := e.do("ada", "POST", "/api/models/ada/cars/yolo/clone", `{"owner":"ada-lab","project":"cars"}`)
	if clone.status != http.StatusCreated {
		t.Fatalf("clone model: status %d: %s", clone.status, clone.body)
	}
	contract.Validate(t, "CloneModelResponse", clone.body)
	e.do("ada", "DELETE", "/api/models/ada/cars/yolo", "")
	restore := e.do("ada", "POST", "/api/trash", `{"id":"`+id+`","type":"model"}`)
	if restore.status != http.StatusOK {
		t.Fatalf("restore: status %d: %s", restore.status, restore.body)
	}
	contract.Validate(t, "RestoreTrashResponse", restore.body)
	e.do("ada", "DELETE", "/api/models/ada/cars/yolo", "")
	purge := e.do("ada", "DELETE", "/api/trash", `{"id":"`+id+`","type":"model"}`)
	if purge.status != http.StatusOK {
		t.Fatalf("permanent delete: status %d: %s", purge.status, purge.body)
	}
	contract.Validate(t, "DeleteTrashResponse", purge.body)
	for _, path := range []string{"/api/models/nobody/cars/yolo/clone", "/api/models/ada/cars/gone/clone"} {
		res := e.do("ada", "POST", path, `{}`)
		if res.status != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", path, res.status)
		}
		contract.Validate(t, "ErrorResponse", res.body)
	}
}
