package api

import (
	"fmt"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/controlplane/state"
	"github.com/yoloplane/yoloplane/shared/apierr"
)

// route names one operation as its method and path pattern. Handlers pass
// it to authorize, which looks up the role it needs in routeRoles.
type route string

// routeRoles is the minimum role an operation needs in the workspace that
// owns its resource: viewer for reads, editor for writes, admin for API
// keys and emptying the trash. Clones need only read access to the source;
// creating the copy checks the create route in the destination.
var routeRoles = map[route]state.Role{
	"GET /api/api-keys":    state.RoleAdmin,
	"POST /api/api-keys":   state.RoleAdmin,
	"DELETE /api/api-keys": state.RoleAdmin,

	"GET /api/projects":                          state.RoleViewer,
	"POST /api/projects":                         state.RoleEditor,
	"GET /api/projects/{projectId}":              state.RoleViewer,
	"PATCH /api/projects/{projectId}":            state.RoleEditor,
	"DELETE /api/projects/{projectId}":           state.RoleEditor,
	"POST /api/projects/{projectId}/clone":       state.RoleViewer,
	"GET /api/projects/{owner}":                  state.RoleViewer,
	"GET /api/projects/{owner}/{project}":        state.RoleViewer,
	"PATCH /api/projects/{owner}/{project}":      state.RoleEditor,
	"DELETE /api/projects/{owner}/{project}":     state.RoleEditor,
	"POST /api/projects/{owner}/{project}/clone": state.RoleViewer,

	"GET /api/projects/{projectId}/icon":          state.RoleViewer,
	"POST /api/projects/{projectId}/icon":         state.RoleEditor,
	"DELETE /api/projects/{projectId}/icon":       state.RoleEditor,
	"GET /api/projects/{owner}/{project}/icon":    state.RoleViewer,
	"POST /api/projects/{owner}/{project}/icon":   state.RoleEditor,
	"DELETE /api/projects/{owner}/{project}/icon": state.RoleEditor,

	"GET /api/models":                                    state.RoleViewer,
	"POST /api/models":                                   state.RoleEditor,
	"GET /api/models/completed":                          state.RoleViewer,
	"GET /api/models/{modelId}":                          state.RoleViewer,
	"PATCH /api/models/{modelId}":                        state.RoleEditor,
	"DELETE /api/models/{modelId}":                       state.RoleEditor,
	"GET /api/models/{modelId}/files":                    state.RoleViewer,
	"POST /api/models/{modelId}/clone":                   state.RoleViewer,
	"POST /api/models/{modelId}/predict":                 state.RoleViewer,
	"GET /api/models/{owner}/{project}":                  state.RoleViewer,
	"GET /api/models/{owner}/{project}/{model}":          state.RoleViewer,
	"PATCH /api/models/{owner}/{project}/{model}":        state.RoleEditor,
	"DELETE /api/models/{owner}/{project}/{model}":       state.RoleEditor,
	"GET /api/models/{owner}/{project}/{model}/files":    state.RoleViewer,
	"POST /api/models/{owner}/{project}/{model}/clone":   state.RoleViewer,
	"POST /api/models/{owner}/{project}/{model}/predict": state.RoleViewer,

	"POST /api/models/{modelId}/track-download":                 state.RoleViewer,
	"POST /api/models/{owner}/{project}/{model}/track-download": state.RoleViewer,

	"GET /api/trash":          state.RoleViewer,
	"POST /api/trash":         state.RoleEditor,
	"DELETE /api/trash":       state.RoleEditor,
	"DELETE /api/trash/empty": state.RoleAdmin,

	"GET /api/activity":            state.RoleViewer,
	"POST /api/activity/mark-seen": state.RoleViewer,
	"POST /api/activity/archive":   state.RoleViewer,

	"POST /api/deployments":                              state.RoleEditor,
	"GET /api/deployments/{deploymentId}":                state.RoleViewer,
	"DELETE /api/deployments/{deploymentId}":             state.RoleEditor,
	"POST /api/deployments/{deploymentId}/start":         state.RoleEditor,
	"POST /api/deployments/{deploymentId}/stop":          state.RoleEditor,
	"GET /api/deployments/{deploymentId}/health":         state.RoleViewer,
	"POST /api/deployments/{deploymentId}/predict":       state.RoleViewer,
	"GET /api/deployments/{deploymentId}/metrics":        state.RoleViewer,
	"GET /api/deployments/{deploymentId}/logs":           state.RoleViewer,
	"GET /api/deployments/{owner}":                       state.RoleViewer,
	"POST /api/deployments/{owner}":                      state.RoleEditor,
	"GET /api/deployments/{owner}/{deployment}":          state.RoleViewer,
	"PATCH /api/deployments/{owner}/{deployment}":        state.RoleEditor,
	"DELETE /api/deployments/{owner}/{deployment}":       state.RoleEditor,
	"GET /api/deployments/{owner}/{deployment}/health":   state.RoleViewer,
	"POST /api/deployments/{owner}/{deployment}/predict": state.RoleViewer,
	"GET /api/deployments/{owner}/{deployment}/metrics":  state.RoleViewer,
	"GET /api/deployments/{owner}/{deployment}/logs":     state.RoleViewer,

	"GET /api/members":             state.RoleViewer,
	"POST /api/members":            state.RoleAdmin,
	"PATCH /api/members/{userId}":  state.RoleAdmin,
	"DELETE /api/members/{userId}": state.RoleAdmin,

	"DELETE /api/invites/{inviteId}":      state.RoleAdmin,
	"POST /api/invites/{inviteId}/resend": state.RoleAdmin,
}

// accountRoutes act on the caller's own account or on public profiles, not
// on one workspace's resources, so a valid API key is all they need, except
// that personalKeyRoutes reject a key created for a team workspace.
var accountRoutes = []route{
	"GET /api/users",
	"PATCH /api/users",
	"GET /api/username/check",
	"GET /api/settings",
	"POST /api/settings",
	"POST /api/settings/icon",
	"DELETE /api/settings/icon",
	"GET /api/account/summary",
	"GET /api/teams",
	"POST /api/teams/create",
	// Lists the deployments of every workspace the caller is a member of.
	"GET /api/deployments",
}

// publicRoutes need no API key: probes, the API description, model
// downloads, which a signed URL authorizes instead, profile avatars, which
// public profiles show and pages load in <img> tags, and invite info and
// acceptance, which the invite token authorizes. An accept with an API key
// joins as that key's user.
var publicRoutes = []route{
	"GET /health",
	"GET /metrics",
	"GET /api/openapi.json",
	"GET /files/models/{modelId}/{name}",
	"GET /api/users/{userId}/icon",
	"GET /api/invites/info",
	"POST /api/invites/accept",
}

// personalKeyRoutes act on the caller's account rather than in one
// workspace, so they reject a key created for a team workspace, which acts
// in that team only. The value completes the error message "use a
// personal API key for ...".
var personalKeyRoutes = map[route]string{
	"GET /api/settings":         "account settings",
	"POST /api/settings":        "account settings",
	"POST /api/settings/icon":   "your avatar",
	"DELETE /api/settings/icon": "your avatar",
	"PATCH /api/users":          "following users and teams",
	"POST /api/teams/create":    "creating teams",
	"POST /api/invites/accept":  "accepting invites",
}

// personalKeyOnly wraps the handler of r, an entry of personalKeyRoutes, so
// that a request with a key created for a team workspace gets an error
// that names the team. Requests without a key reach h.
func (s *Server) personalKeyOnly(r route, h fasthttp.RequestHandler) fasthttp.RequestHandler {
	purpose, ok := personalKeyRoutes[r]
	if !ok {
		panic(fmt.Sprintf("BUG: route %q has no entry in personalKeyRoutes", r))
	}
	return func(ctx *fasthttp.RequestCtx) {
		if p := principal(ctx); p != nil && !s.isPersonalKey(p.Key) {
			apierr.Write(ctx, s.teamKeyError(r, p.Key, "for "+purpose))
			return
		}
		h(ctx)
	}
}

func (s *Server) isPersonalKey(k state.APIKey) bool {
	ws, ok := s.fsm.WorkspaceByID(k.WorkspaceID)
	return ok && ws.Personal
}

// teamKeyError is the error for a key of a team workspace used outside
// that team. fix completes "use a personal API key ...".
func (s *Server) teamKeyError(r route, k state.APIKey, fix string) *apierr.Error {
	team, _ := s.fsm.WorkspaceByID(k.WorkspaceID)
	return apierr.New(forbiddenStatus(r), apierr.CodeForbidden,
		"this API key acts only in team %q: use a personal API key %s", team.Slug, fix)
}

// reach checks that the caller's key may act in workspaceID, whatever the
// role. A caller who is not a member gets notFound, so IDs and names cannot
// be probed. A member whose key was created for another team workspace gets
// the error of teamKeyError, which names the workspace. On an ID route this
// reveals to the holder of a team key that a resource of that ID exists.
func (s *Server) reach(ctx *fasthttp.RequestCtx, r route, workspaceID string, notFound *apierr.Error) (state.Member, *apierr.Error) {
	p := principal(ctx)
	if p == nil {
		return state.Member{}, notFound
	}
	m, ok := s.fsm.Member(workspaceID, p.User.ID)
	if !ok {
		return state.Member{}, notFound
	}
	if !s.fsm.KeyReaches(p.Key, workspaceID) {
		ws, _ := s.fsm.WorkspaceByID(workspaceID)
		return state.Member{}, s.teamKeyError(r, p.Key, fmt.Sprintf("or a key created for %q", ws.Slug))
	}
	return m, nil
}

// roleRank orders roles so that a higher rank includes the lower ones.
func roleRank(r state.Role) int {
	switch r {
	case state.RoleViewer:
		return 1
	case state.RoleEditor:
		return 2
	case state.RoleAdmin:
		return 3
	}
	return 0
}

// authorize checks that the caller may run r on a resource of workspaceID.
// A caller who is not a member gets notFound, the same error as for a
// resource that does not exist, so IDs and names cannot be probed. A member
// whose key does not reach the workspace, or whose role is too low, gets
// the status of forbiddenStatus.
func (s *Server) authorize(ctx *fasthttp.RequestCtx, r route, workspaceID string, notFound *apierr.Error) *apierr.Error {
	need, ok := routeRoles[r]
	if !ok {
		panic(fmt.Sprintf("BUG: route %q has no entry in routeRoles", r))
	}
	m, e := s.reach(ctx, r, workspaceID, notFound)
	if e != nil {
		return e
	}
	if roleRank(m.Role) < roleRank(need) {
		return apierr.New(forbiddenStatus(r), apierr.CodeForbidden,
			"this request needs the %s role in the workspace, and your role is %s: ask a workspace admin", need, m.Role)
	}
	return nil
}

// workspaceFor returns the workspace a collection request targets: the one
// named by owner, or the workspace of the caller's API key when owner is
// empty. A workspace the caller is not a member of is not found.
func (s *Server) workspaceFor(ctx *fasthttp.RequestCtx, r route, owner string) (state.Workspace, *apierr.Error) {
	p := principal(ctx)
	var ws state.Workspace
	var ok bool
	if owner == "" {
		ws, ok = s.fsm.WorkspaceByID(p.Key.WorkspaceID)
	} else {
		ws, ok = s.fsm.WorkspaceBySlug(owner)
	}
	notFound := apierr.NotFound("workspace %q not found: check the owner name", owner)
	if !ok {
		return state.Workspace{}, notFound
	}
	if err := s.authorize(ctx, r, ws.ID, notFound); err != nil {
		return state.Workspace{}, err
	}
	return ws, nil
}
