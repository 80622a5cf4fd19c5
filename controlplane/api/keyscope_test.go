package api

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/yoloplane/yoloplane/controlplane/state"
	"github.com/yoloplane/yoloplane/shared/ids"
)

// teamKeyEnv returns an env where ada has a personal workspace, is admin of
// the team "acme" and holds in e.keys["acme-key"] a key created for acme.
// bob has a pending invite to the team "beta", whose token it returns.
func teamKeyEnv(t *testing.T) (*env, string) {
	e := teamEnv(t)
	e.addUser("bob")
	acme := e.workspace("acme")
	e.keys["acme-key"] = e.addKey("ada", acme.ID)
	beta := e.must(&state.CreateWorkspace{WorkspaceID: ids.New(), Slug: "beta", Name: "Beta", OwnerID: e.users["bob"], CreatedAt: e.clock()}).(state.Workspace)
	_, token := e.addInvite(beta.ID, "bob", "ada@example.com")
	return e, token
}

// TestTeamKeyRejectedOnAccountRoutes sends every route of
// personalKeyRoutes with a team key and checks the rejection and that
// nothing about the account changed.
func TestTeamKeyRejectedOnAccountRoutes(t *testing.T) {
	e, token := teamKeyEnv(t)
	bodies := map[route]string{
		"POST /api/settings":       `{"fullName":"Mallory","bio":"changed"}`,
		"PATCH /api/users":         `{"username":"bob","followed":true}`,
		"POST /api/teams/create":   `{"name":"Side Team","slug":"side-team"}`,
		"POST /api/invites/accept": `{"token":"` + token + `"}`,
	}
	for r, purpose := range personalKeyRoutes {
		method, path, _ := strings.Cut(string(r), " ")
		var res response
		if r == "POST /api/settings/icon" {
			res = e.uploadIcon("acme-key", path, pngImage(t, 8, 8))
		} else {
			res = e.do("acme-key", method, path, bodies[r])
		}
		checkTeamKeyRejected(t, string(r), r, "acme", res)
		if !strings.Contains(string(res.body), "use a personal API key for "+purpose) {
			t.Errorf("%s: error %s does not say to use a personal key for %s", r, res.body, purpose)
		}
	}

	ada := e.users["ada"]
	if set := e.fsm.Settings(ada); set.FullName != "" || set.Bio != "" {
		t.Errorf("settings after the rejected update = %+v, want them unchanged", set)
	}
	if _, ok := e.fsm.UserAvatar(ada); ok {
		t.Errorf("ada has an avatar after the rejected upload")
	}
	if _, ok := e.fsm.WorkspaceBySlug("side-team"); ok {
		t.Errorf("the team key created the team side-team")
	}
	if _, ok := e.fsm.Member(e.workspace("beta").ID, ada); ok {
		t.Errorf("the team key joined ada to beta")
	}
	if _, followed := e.fsm.Followers(e.workspace("bob").ID, ada); followed {
		t.Errorf("the team key made ada follow bob")
	}
}

// TestPersonalKeyUsesAccountRoutes checks that the rejection is for team keys
// only: ada's personal key changes the same account.
func TestPersonalKeyUsesAccountRoutes(t *testing.T) {
	e, token := teamKeyEnv(t)
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/api/settings", `{"bio":"hello"}`},
		{"GET", "/api/settings", ""},
		{"PATCH", "/api/users", `{"username":"bob","followed":true}`},
		{"POST", "/api/teams/create", `{"name":"Side Team","slug":"side-team"}`},
		{"POST", "/api/invites/accept", `{"token":"` + token + `"}`},
		{"DELETE", "/api/settings/icon", ""},
	} {
		res := e.do("ada", c.method, c.path, c.body)
		if res.status >= 300 {
			t.Errorf("%s %s with the personal key: status %d: %s", c.method, c.path, res.status, res.body)
		}
	}
	if up := e.uploadIcon("ada", "/api/settings/icon", pngImage(t, 8, 8)); up.status != http.StatusOK {
		t.Errorf("upload avatar with the personal key: status %d: %s", up.status, up.body)
	}
}

// teamKeyAllowedRoutes are the account and public routes that a key
// created for a team workspace may use, with the reason.
var teamKeyAllowedRoutes = map[route]string{
	"GET /api/users":                     "public profiles",
	"GET /api/username/check":            "the shared namespace of names, public",
	"GET /api/users/{userId}/icon":       "public avatars",
	"GET /api/account/summary":           "describes the key's own workspace and the teams the key reaches",
	"GET /api/teams":                     "lists only the teams the key reaches",
	"GET /api/deployments":               "lists only the deployments of workspaces the key reaches",
	"GET /health":                        "no key needed",
	"GET /metrics":                       "no key needed",
	"GET /api/openapi.json":              "no key needed",
	"GET /files/models/{modelId}/{name}": "a signed URL authorizes it",
	"GET /api/invites/info":              "the invite token authorizes it",
}

// TestAccountRoutesClassified makes each new account or public route decide
// whether a team key may use it.
func TestAccountRoutesClassified(t *testing.T) {
	for _, r := range slices.Concat(accountRoutes, publicRoutes) {
		_, personal := personalKeyRoutes[r]
		_, allowed := teamKeyAllowedRoutes[r]
		if personal == allowed {
			t.Errorf("route %q must be in exactly one of personalKeyRoutes and teamKeyAllowedRoutes", r)
		}
	}
	for r := range personalKeyRoutes {
		if !slices.Contains(accountRoutes, r) && !slices.Contains(publicRoutes, r) {
			t.Errorf("personalKeyRoutes entry %q is not an account or public route", r)
		}
	}
}

func TestTeamKeyListsOnlyItsTeam(t *testing.T) {
	e, _ := teamKeyEnv(t)
	e.must(&state.CreateWorkspace{WorkspaceID: ids.New(), Slug: "ada-lab", Name: "Lab", OwnerID: e.users["ada"], CreatedAt: e.clock()})
	teams := e.do("acme-key", "GET", "/api/teams", "").json(t)
	if list := teams["teams"].([]any); len(list) != 1 || list[0].(map[string]any)["username"] != "acme" {
		t.Errorf("teams with the acme key = %v, want acme only", list)
	}
	if teams["total"] != 1.0 {
		t.Errorf("total with the acme key = %v, want 1", teams["total"])
	}
	summary := e.do("acme-key", "GET", "/api/account/summary", "").json(t)
	if list := summary["teams"].([]any); len(list) != 1 || list[0].(map[string]any)["username"] != "acme" {
		t.Errorf("summary teams with the acme key = %v, want acme only", list)
	}
	if got := len(e.do("ada", "GET", "/api/teams", "").json(t)["teams"].([]any)); got != 2 {
		t.Errorf("the personal key lists %d teams, want acme and ada-lab", got)
	}
}

func TestTeamKeyNamingOtherWorkspace(t *testing.T) {
	e, _ := teamKeyEnv(t)
	personal := e.workspace("ada")
	own, _ := e.fsm.KeyByHash(HashKey(e.keys["ada"]))
	cases := []struct {
		name, method, path, body string
		r                        route
		other                    string
	}{
		{"list projects", "GET", "/api/projects?owner=ada", "", "GET /api/projects", "ada"},
		{"create a key", "POST", "/api/api-keys", `{"name":"escape","owner":"ada"}`, "POST /api/api-keys", "ada"},
		{"revoke the personal key", "DELETE", "/api/api-keys", `{"keyId":"` + own.ID + `"}`, "DELETE /api/api-keys", "ada"},
		{"list owner projects", "GET", "/api/projects/ada", "", "GET /api/projects/{owner}", "ada"},
	}
	for _, c := range cases {
		res := e.do("acme-key", c.method, c.path, c.body)
		checkTeamKeyRejected(t, c.name, c.r, "acme", res)
		if !strings.Contains(string(res.body), `a key created for \"`+c.other+`\"`) {
			t.Errorf("%s: error %s does not name the workspace %s", c.name, res.body, c.other)
		}
	}
	for _, k := range e.fsm.KeysOf(e.users["ada"]) {
		if k.WorkspaceID == personal.ID && (k.Revoked || k.Name == "escape") {
			t.Errorf("the team key changed personal key %+v", k)
		}
	}
	// A workspace that the key's user is no member of stays not found.
	checkError(t, "list projects of beta", e.do("acme-key", "GET", "/api/projects?owner=beta", ""), http.StatusNotFound, `workspace "beta" not found`)
}

func TestTeamKeyCloneIntoPersonal(t *testing.T) {
	e, _ := teamKeyEnv(t)
	if res := e.do("acme-key", "POST", "/api/projects", `{"project":"cars","name":"Cars"}`); res.status != http.StatusCreated {
		t.Fatalf("create project in acme: status %d: %s", res.status, res.body)
	}
	res := e.do("acme-key", "POST", "/api/projects/acme/cars/clone", `{"owner":"ada","project":"copy"}`)
	checkTeamKeyRejected(t, "clone into the personal workspace", "POST /api/projects/{owner}/{project}/clone", "acme", res)
	if _, ok := e.fsm.ProjectBySlug(e.workspace("ada").ID, "copy"); ok {
		t.Errorf("the team key cloned a project into the personal workspace")
	}
}
