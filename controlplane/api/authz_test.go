package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/yoloplane/yoloplane/controlplane/state"
	"github.com/yoloplane/yoloplane/shared/ids"
)

// fill creates, in a workspace, the records the route matrix addresses: a
// project "cars" with a model "yolo", a trashed project and an event.
func (e *env) fill(wsID string) map[string]string {
	e.t.Helper()
	hash, size, err := e.blobs.Put(strings.NewReader("weights of " + wsID))
	if err != nil {
		e.t.Fatal(err)
	}
	p := e.must(&state.CreateProject{ProjectID: ids.New(), WorkspaceID: wsID, Slug: "cars", Name: "Cars", CreatedAt: e.clock()}).(state.Project)
	m := e.must(&state.CreateModel{ModelID: ids.New(), ProjectID: p.ID, Slug: "yolo", Name: "yolo", Format: state.FormatPyTorch,
		FileSHA256: hash, FileSize: size, Status: state.ModelStatusNeedsExport, CreatedAt: e.clock()}).(state.Model)
	gone := e.must(&state.CreateProject{ProjectID: ids.New(), WorkspaceID: wsID, Slug: "gone", Name: "Gone", CreatedAt: e.clock()}).(state.Project)
	e.must(&state.DeleteProject{ProjectID: gone.ID, DeletedAt: e.clock()})
	icon, iconSize, err := e.blobs.Put(strings.NewReader("icon of " + wsID))
	if err != nil {
		e.t.Fatal(err)
	}
	e.must(&state.SetProjectIcon{Icon: state.ProjectIcon{ProjectID: p.ID, SHA256: icon, ContentType: "image/png", Size: iconSize, UpdatedAt: e.clock()}})
	return map[string]string{"projectId": p.ID, "modelId": m.ID, "goneId": gone.ID}
}

// fillDeployment adds to the records of fill an ONNX model "det" of
// project "cars" and a deployment "bus" of it.
func (e *env) fillDeployment(wsID string, vars map[string]string) {
	e.t.Helper()
	hash, size, err := e.blobs.Put(strings.NewReader("onnx weights of " + wsID))
	if err != nil {
		e.t.Fatal(err)
	}
	onnx := e.must(&state.CreateModel{ModelID: ids.New(), ProjectID: vars["projectId"], Slug: "det", Name: "det", Format: state.FormatONNX,
		FileSHA256: hash, FileSize: size, Status: state.ModelStatusReady, CreatedAt: e.clock()}).(state.Model)
	dep := ids.New()
	e.must(&state.CreateDeployment{DeploymentID: dep, WorkspaceID: wsID, Slug: "bus", Name: "bus", ModelID: onnx.ID, Region: "us-central1", CreatedAt: e.clock()})
	vars["onnxId"], vars["deploymentId"] = onnx.ID, dep
}

// matrixRoutes addresses every entry of routeRoles with {ws} the target
// workspace and {dest} a workspace where the caller is admin.
var matrixRoutes = []struct {
	route        route
	method, path string
	body         string
}{
	{"GET /api/api-keys", "GET", "/api/api-keys?owner={ws}", ""},
	{"POST /api/api-keys", "POST", "/api/api-keys", `{"name":"ci","owner":"{ws}"}`},
	{"DELETE /api/api-keys", "DELETE", "/api/api-keys", `{"keyId":"{keyId}"}`},
	{"GET /api/projects", "GET", "/api/projects?owner={ws}", ""},
	{"POST /api/projects", "POST", "/api/projects", `{"project":"new-one","name":"New","owner":"{ws}"}`},
	{"GET /api/projects/{projectId}", "GET", "/api/projects/{projectId}", ""},
	{"PATCH /api/projects/{projectId}", "PATCH", "/api/projects/{projectId}", `{"description":"d"}`},
	{"DELETE /api/projects/{projectId}", "DELETE", "/api/projects/{projectId}", ""},
	{"POST /api/projects/{projectId}/clone", "POST", "/api/projects/{projectId}/clone", `{"owner":"{dest}","project":"copy"}`},
	{"GET /api/projects/{owner}", "GET", "/api/projects/{ws}", ""},
	{"GET /api/projects/{owner}/{project}", "GET", "/api/projects/{ws}/cars", ""},
	{"PATCH /api/projects/{owner}/{project}", "PATCH", "/api/projects/{ws}/cars", `{"name":"Trucks"}`},
	{"DELETE /api/projects/{owner}/{project}", "DELETE", "/api/projects/{ws}/cars", ""},
	{"POST /api/projects/{owner}/{project}/clone", "POST", "/api/projects/{ws}/cars/clone", `{"owner":"{dest}","project":"copy"}`},
	{"GET /api/projects/{projectId}/icon", "GET", "/api/projects/{projectId}/icon", ""},
	{"POST /api/projects/{projectId}/icon", "POST", "/api/projects/{projectId}/icon", `{}`},
	{"DELETE /api/projects/{projectId}/icon", "DELETE", "/api/projects/{projectId}/icon", ""},
	{"GET /api/projects/{owner}/{project}/icon", "GET", "/api/projects/{ws}/cars/icon", ""},
	{"POST /api/projects/{owner}/{project}/icon", "POST", "/api/projects/{ws}/cars/icon", `{}`},
	{"DELETE /api/projects/{owner}/{project}/icon", "DELETE", "/api/projects/{ws}/cars/icon", ""},
	{"GET /api/models", "GET", "/api/models?projectId={projectId}", ""},
	{"POST /api/models", "POST", "/api/models", `{"owner":"{ws}","project":"cars","model":"m2"}`},
	{"GET /api/models/completed", "GET", "/api/models/completed?owner={ws}", ""},
	{"GET /api/models/{modelId}", "GET", "/api/models/{modelId}", ""},
	{"PATCH /api/models/{modelId}", "PATCH", "/api/models/{modelId}", `{"name":"n"}`},
	{"DELETE /api/models/{modelId}", "DELETE", "/api/models/{modelId}", ""},
	{"GET /api/models/{modelId}/files", "GET", "/api/models/{modelId}/files", ""},
	{"POST /api/models/{modelId}/clone", "POST", "/api/models/{modelId}/clone", `{"owner":"{dest}","project":"cars","model":"copy"}`},
	{"POST /api/models/{modelId}/predict", "POST", "/api/models/{modelId}/predict", ""},
	{"GET /api/models/{owner}/{project}", "GET", "/api/models/{ws}/cars", ""},
	{"GET /api/models/{owner}/{project}/{model}", "GET", "/api/models/{ws}/cars/yolo", ""},
	{"PATCH /api/models/{owner}/{project}/{model}", "PATCH", "/api/models/{ws}/cars/yolo", `{"name":"n"}`},
	{"DELETE /api/models/{owner}/{project}/{model}", "DELETE", "/api/models/{ws}/cars/yolo", ""},
	{"GET /api/models/{owner}/{project}/{model}/files", "GET", "/api/models/{ws}/cars/yolo/files", ""},
	{"POST /api/models/{owner}/{project}/{model}/clone", "POST", "/api/models/{ws}/cars/yolo/clone", `{"owner":"{dest}","project":"cars","model":"copy"}`},
	{"POST /api/models/{owner}/{project}/{model}/predict", "POST", "/api/models/{ws}/cars/yolo/predict", ""},
	{"POST /api/models/{modelId}/track-download", "POST", "/api/models/{modelId}/track-download", ""},
	{"POST /api/models/{owner}/{project}/{model}/track-download", "POST", "/api/models/{ws}/cars/yolo/track-download", ""},
	{"GET /api/trash", "GET", "/api/trash?owner={ws}", ""},
	{"POST /api/trash", "POST", "/api/trash", `{"id":"{goneId}","type":"project"}`},
	{"DELETE /api/trash", "DELETE", "/api/trash", `{"id":"{goneId}","type":"project"}`},
	{"DELETE /api/trash/empty", "DELETE", "/api/trash/empty?owner={ws}", ""},
	{"GET /api/activity", "GET", "/api/activity?owner={ws}", ""},
	{"POST /api/activity/mark-seen", "POST", "/api/activity/mark-seen", `{"owner":"{ws}"}`},
	{"POST /api/activity/archive", "POST", "/api/activity/archive", `{"owner":"{ws}"}`},
	{"POST /api/deployments", "POST", "/api/deployments", `{"modelId":"{onnxId}","name":"new"}`},
	{"GET /api/deployments/{deploymentId}", "GET", "/api/deployments/{deploymentId}", ""},
	{"DELETE /api/deployments/{deploymentId}", "DELETE", "/api/deployments/{deploymentId}", ""},
	{"POST /api/deployments/{deploymentId}/start", "POST", "/api/deployments/{deploymentId}/start", ""},
	{"POST /api/deployments/{deploymentId}/stop", "POST", "/api/deployments/{deploymentId}/stop", ""},
	{"GET /api/deployments/{deploymentId}/health", "GET", "/api/deployments/{deploymentId}/health", ""},
	{"POST /api/deployments/{deploymentId}/predict", "POST", "/api/deployments/{deploymentId}/predict", ""},
	{"GET /api/deployments/{deploymentId}/metrics", "GET", "/api/deployments/{deploymentId}/metrics", ""},
	{"GET /api/deployments/{deploymentId}/logs", "GET", "/api/deployments/{deploymentId}/logs", ""},
	{"GET /api/deployments/{owner}", "GET", "/api/deployments/{ws}", ""},
	{"POST /api/deployments/{owner}", "POST", "/api/deployments/{ws}", `{"project":"cars","model":"det","deployment":"new","name":"New","region":"us-central1"}`},
	{"GET /api/deployments/{owner}/{deployment}", "GET", "/api/deployments/{ws}/bus", ""},
	{"PATCH /api/deployments/{owner}/{deployment}", "PATCH", "/api/deployments/{ws}/bus", `{"action":"stop"}`},
	{"DELETE /api/deployments/{owner}/{deployment}", "DELETE", "/api/deployments/{ws}/bus", ""},
	{"GET /api/deployments/{owner}/{deployment}/health", "GET", "/api/deployments/{ws}/bus/health", ""},
	{"POST /api/deployments/{owner}/{deployment}/predict", "POST", "/api/deployments/{ws}/bus/predict", ""},
	{"GET /api/deployments/{owner}/{deployment}/metrics", "GET", "/api/deployments/{ws}/bus/metrics", ""},
	{"GET /api/deployments/{owner}/{deployment}/logs", "GET", "/api/deployments/{ws}/bus/logs", ""},
	{"GET /api/members", "GET", "/api/members?owner={ws}", ""},
	{"POST /api/members", "POST", "/api/members", `{"owner":"{ws}","username":"ada","role":"viewer"}`},
	{"PATCH /api/members/{userId}", "PATCH", "/api/members/{carlId}?owner={ws}", `{"role":"admin"}`},
	{"DELETE /api/members/{userId}", "DELETE", "/api/members/{carlId}?owner={ws}", ""},
	{"DELETE /api/invites/{inviteId}", "DELETE", "/api/invites/{inviteId}", ""},
	{"POST /api/invites/{inviteId}/resend", "POST", "/api/invites/{inviteId}/resend", ""},
}

func TestMatrixCoversEveryRoute(t *testing.T) {
	seen := map[route]bool{}
	for _, r := range matrixRoutes {
		if _, ok := routeRoles[r.route]; !ok {
			t.Errorf("matrix route %q is not in routeRoles", r.route)
		}
		seen[r.route] = true
	}
	for r := range routeRoles {
		if !seen[r] {
			t.Errorf("routeRoles entry %q has no matrix case", r)
		}
	}
}

// matrixEnv builds a state where the caller "carl" has role (or no
// membership when role is "") in the team workspace "acme", owns the team
// workspace "carl-lab", and every workspace holds the fill records.
func matrixEnv(t *testing.T, role state.Role) (*env, map[string]map[string]string) {
	e := newEnv(t)
	e.addUser("ada")
	e.addUser("carl")
	acme := e.must(&state.CreateWorkspace{WorkspaceID: ids.New(), Slug: "acme", Name: "Acme", OwnerID: e.users["ada"], CreatedAt: e.clock()}).(state.Workspace)
	lab := e.must(&state.CreateWorkspace{WorkspaceID: ids.New(), Slug: "carl-lab", Name: "Lab", OwnerID: e.users["carl"], CreatedAt: e.clock()}).(state.Workspace)
	adaKey := e.addKey("ada", acme.ID)
	vars := map[string]map[string]string{}
	for _, ws := range []state.Workspace{acme, lab, e.workspace("carl")} {
		v := e.fill(ws.ID)
		e.fillDeployment(ws.ID, v)
		v["ws"] = ws.Slug
		vars[ws.Slug] = v
	}
	vars["acme"]["inviteId"], _ = e.addInvite(acme.ID, "ada", "dee@example.com")
	vars["carl-lab"]["inviteId"], _ = e.addInvite(lab.ID, "carl", "dee@example.com")
	// A personal workspace has no invites, so the invite routes of the
	// own-workspace case address carl's team instead.
	vars["carl"]["inviteId"] = vars["carl-lab"]["inviteId"]
	adaRecord, _ := e.fsm.KeyByHash(HashKey(adaKey))
	vars["acme"]["keyId"] = adaRecord.ID
	if role != "" {
		e.must(&state.AddMember{WorkspaceID: acme.ID, UserID: e.users["carl"], Role: role, CreatedAt: e.clock()})
		carlKey := e.addKey("carl", acme.ID)
		k, _ := e.fsm.KeyByHash(HashKey(carlKey))
		vars["acme"]["keyId"] = k.ID
	}
	own := e.keys["carl"]
	k, _ := e.fsm.KeyByHash(HashKey(own))
	vars["carl"]["keyId"] = k.ID
	return e, vars
}

func TestRouteRoleMatrix(t *testing.T) {
	roles := []state.Role{"", state.RoleViewer, state.RoleEditor, state.RoleAdmin}
	for _, r := range matrixRoutes {
		need := routeRoles[r.route]
		for _, role := range roles {
			e, vars := matrixEnv(t, role)
			v := vars["acme"]
			v["dest"] = "carl-lab"
			v["carlId"] = e.users["carl"]
			res := e.do("carl", r.method, expand(r.path, v), expand(r.body, v))
			want := "allowed"
			switch {
			case role == "":
				want = "404"
			case roleRank(role) < roleRank(need):
				want = "403"
			}
			checkOutcome(t, string(r.route)+" as "+roleName(role)+" of acme", want, res)
		}
		e, vars := matrixEnv(t, state.RoleViewer)
		v := vars["carl"]
		v["dest"] = "carl-lab"
		v["carlId"] = e.users["carl"]
		res := e.do("carl", r.method, expand(r.path, v), expand(r.body, v))
		checkOutcome(t, string(r.route)+" in own workspace", "allowed", res)
	}
}

// TestRouteMatrixTeamKey sends every route of the matrix with carl's key
// of his team carl-lab. The key is allowed in carl-lab. In acme, where carl
// is admin, and in his personal workspace, it is rejected with a message
// that names the team.
func TestRouteMatrixTeamKey(t *testing.T) {
	for _, r := range matrixRoutes {
		for _, target := range []string{"carl-lab", "acme", "carl"} {
			e, vars := matrixEnv(t, state.RoleAdmin)
			lab := e.workspace("carl-lab")
			e.keys["carl-lab"] = e.addKey("carl", lab.ID)
			teamKey, _ := e.fsm.KeyByHash(HashKey(e.keys["carl-lab"]))
			vars["carl-lab"]["keyId"] = teamKey.ID
			// A personal workspace has no invites, so the invite routes
			// of the personal case address acme's invite instead.
			vars["carl"]["inviteId"] = vars["acme"]["inviteId"]
			v := vars[target]
			v["dest"] = "carl-lab"
			v["carlId"] = e.users["carl"]
			if target == "carl-lab" {
				// Removing or demoting carl would leave carl-lab
				// without an admin, so the member routes address ada.
				e.must(&state.AddMember{WorkspaceID: lab.ID, UserID: e.users["ada"], Role: state.RoleViewer, CreatedAt: e.clock()})
				v["carlId"] = e.users["ada"]
			}
			res := e.do("carl-lab", r.method, expand(r.path, v), expand(r.body, v))
			name := string(r.route) + " with the carl-lab key in " + target
			switch {
			case target == "carl-lab" && strings.HasSuffix(string(r.route), "/clone"):
				// The key reaches no other workspace to clone into, and
				// a clone into the source's own workspace is rejected.
				if strings.Contains(string(res.body), "acts only in team") {
					t.Errorf("%s: the key was rejected in its own team: %s", name, res.body)
				}
				continue
			case target == "carl-lab":
				checkOutcome(t, name, "allowed", res)
				continue
			}
			checkTeamKeyRejected(t, name, r.route, "carl-lab", res)
		}
	}
}

// checkTeamKeyRejected fails the test unless res rejects a key of team for
// r with the status of forbiddenStatus and a message that names the team.
func checkTeamKeyRejected(t *testing.T, name string, r route, team string, res response) {
	t.Helper()
	if want := forbiddenStatus(r); res.status != want {
		t.Errorf("%s: status %d, want %d: %s", name, res.status, want, res.body)
		return
	}
	if hint := `this API key acts only in team \"` + team + `\"`; !strings.Contains(string(res.body), hint) {
		t.Errorf("%s: error %s does not say that the key acts only in %s", name, res.body, team)
	}
	if got := string(res.header.Peek("X-Error-Code")); got != "FORBIDDEN" {
		t.Errorf("%s: X-Error-Code %q, want FORBIDDEN", name, got)
	}
}

func roleName(r state.Role) string {
	if r == "" {
		return "non-member"
	}
	return string(r)
}

func checkOutcome(t *testing.T, name, want string, res response) {
	t.Helper()
	switch want {
	case "404":
		if res.status != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404: %s", name, res.status, res.body)
		}
	case "403":
		if res.status != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403: %s", name, res.status, res.body)
		}
	default:
		if res.status == http.StatusUnauthorized || res.status == http.StatusForbidden || res.status == http.StatusNotFound || res.status >= 500 && res.status != http.StatusServiceUnavailable {
			t.Errorf("%s: status %d, want the request allowed: %s", name, res.status, res.body)
		}
	}
}
