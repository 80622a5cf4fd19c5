package api

import (
	"github.com/valyala/fasthttp"
	"strings"

	"github.com/yoloplane/yoloplane/controlplane/state"
	"github.com/yoloplane/yoloplane/shared/apierr"
	"github.com/yoloplane/yoloplane/shared/ids"
)

// memberView is one member of a workspace.
type memberView struct {
	UserID    string `json:"userId"`
	Username  string `json:"username"`
	Email     string `json:"email,omitempty"`
	FullName  string `json:"fullName,omitempty"`
	ImageURL  string `json:"imageUrl,omitempty"`
	Role      string `json:"role"`
	CreatedAt string `json:"createdAt"`
}

// teamView is a team workspace the caller belongs to.
type teamView struct {
	ID          string `json:"id"`
	Username    string `json:"username"`
	Slug        string `json:"slug"`
	Name        string `json:"name"`
	Plan        string `json:"plan"`
	Role        string `json:"role"`
	MemberCount int    `json:"memberCount"`
	CreatedAt   string `json:"createdAt"`
}

func (s *Server) teamView(ws state.Workspace, userID string) teamView {
	m, _ := s.fsm.Member(ws.ID, userID)
	return teamView{ID: ws.ID, Username: ws.Slug, Slug: ws.Slug, Name: ws.Name, Plan: string(ws.Plan), Role: string(m.Role),
		MemberCount: len(s.fsm.MembersOf(ws.ID)), CreatedAt: formatTime(ws.CreatedAt)}
}

// handleListTeams lists the team workspaces the caller is a member of and
// the API key reaches: only its own team for a key created for a team.
func (s *Server) handleListTeams(ctx *fasthttp.RequestCtx) {
	p := principal(ctx)
	userID := p.User.ID
	teams := []teamView{}
	for _, ws := range s.fsm.WorkspacesOfKey(p.Key) {
		if !ws.Personal {
			teams = append(teams, s.teamView(ws, userID))
		}
	}
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"teams": teams, "total": len(teams)})
}

// handleCreateTeam creates a team workspace with the caller as its admin.
// The slug defaults to the slugified name.
func (s *Server) handleCreateTeam(ctx *fasthttp.RequestCtx) {
	var req struct {
		Name string `json:"name"`
		Slug string `json:"slug"`
	}
	if e := readJSON(ctx, &req, false); e != nil {
		apierr.Write(ctx, e)
		return
	}
	if req.Slug == "" {
		req.Slug = Slugify(req.Name)
	}
	if req.Name == "" {
		req.Name = req.Slug
	}
	if req.Slug == "" {
		apierr.Write(ctx, apierr.Validation(`name is missing: send the team's "name", and optionally its "slug"`))
		return
	}
	if problem := usernameProblem(req.Slug); problem != "" {
		// Team slugs follow the username rules, whose messages name the
		// field "username".
		problem = strings.ReplaceAll(problem, "username", "slug")
		apierr.Write(ctx, apierr.Validation("team slug %q is invalid: %s", req.Slug, problem))
		return
	}
	user := principal(ctx).User
	v, e := s.apply(&state.CreateWorkspace{WorkspaceID: ids.New(), Slug: req.Slug, Name: req.Name, OwnerID: user.ID, CreatedAt: s.now()})
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	ws := v.(state.Workspace)
	s.record(ctx, ws.ID, "created", "team", ws.ID, "Created team "+ws.Slug)
	writeJSON(ctx, fasthttp.StatusCreated, map[string]any{"success": true, "team": s.teamView(ws, user.ID)})
}

// handleListMembers lists the members of the workspace named by the owner
// query parameter, or of the API key's workspace, and its pending invites.
func (s *Server) handleListMembers(ctx *fasthttp.RequestCtx) {
	ws, e := s.workspaceFor(ctx, "GET /api/members", string(ctx.QueryArgs().Peek("owner")))
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	members := []memberView{}
	for _, m := range s.fsm.MembersOf(ws.ID) {
		members = append(members, s.memberView(m))
	}
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"members": members, "total": len(members), "invites": s.pendingInviteViews(ws.ID)})
}

func (s *Server) memberView(m state.Member) memberView {
	v := memberView{UserID: m.UserID, Role: string(m.Role), CreatedAt: formatTime(m.CreatedAt)}
	if u, ok := s.fsm.UserByID(m.UserID); ok {
		v.Username, v.Email, v.FullName = u.Username, u.Email, displayName(u, s.fsm.Settings(u.ID))
		v.ImageURL = s.avatarURL(u.ID)
	}
	return v
}

// handleAddMember adds an existing user, named by email or username, to a
// team workspace with a role. An email without an account gets a pending
// invite instead, with the response that createInvite describes.
func (s *Server) handleAddMember(ctx *fasthttp.RequestCtx) {
	var req struct {
		Owner    string `json:"owner"`
		Email    string `json:"email"`
		Username string `json:"username"`
		Role     string `json:"role"`
	}
	if e := readJSON(ctx, &req, false); e != nil {
		apierr.Write(ctx, e)
		return
	}
	ws, e := s.workspaceFor(ctx, "POST /api/members", req.Owner)
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	role, e := parseRole(req.Role)
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	u, found, e := s.memberCandidate(req.Email, req.Username)
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	if !found {
		s.createInvite(ctx, ws, req.Email, role)
		return
	}
	v, e := s.apply(&state.AddMember{WorkspaceID: ws.ID, UserID: u.ID, Role: role, CreatedAt: s.now()})
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	s.record(ctx, ws.ID, "added", "member", u.ID, "Added "+u.Username+" as "+string(role))
	writeJSON(ctx, fasthttp.StatusCreated, map[string]any{"success": true, "member": s.memberView(v.(state.Member))})
}

// memberCandidate finds the user a member request names. found is false
// for an email that no account has, which the caller invites.
func (s *Server) memberCandidate(email, username string) (u state.User, found bool, e *apierr.Error) {
	switch {
	case email != "":
		u, found = s.fsm.UserByEmail(email)
		return u, found, nil
	case username != "":
		u, found = s.fsm.UserByUsername(username)
	default:
		return state.User{}, false, apierr.Validation("email or username is missing: name the user to add")
	}
	if !found {
		return state.User{}, false, apierr.NotFound("no user has the username %q: invite the person by email instead", username)
	}
	return u, true, nil
}

// parseRole returns the role of a member request, viewer when it is empty.
func parseRole(role string) (state.Role, *apierr.Error) {
	switch r := state.Role(role); r {
	case "":
		return state.RoleViewer, nil
	case state.RoleViewer, state.RoleEditor, state.RoleAdmin:
		return r, nil
	}
	return "", apierr.Validation("role %q is invalid: use viewer, editor or admin", role)
}

func (s *Server) handleUpdateMember(ctx *fasthttp.RequestCtx) {
	var req struct {
		Owner string `json:"owner"`
		Role  string `json:"role"`
	}
	if e := readJSON(ctx, &req, false); e != nil {
		apierr.Write(ctx, e)
		return
	}
	if req.Owner == "" {
		req.Owner = string(ctx.QueryArgs().Peek("owner"))
	}
	ws, userID, e := s.memberTarget(ctx, "PATCH /api/members/{userId}", req.Owner)
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	v, e := s.apply(&state.UpdateMember{WorkspaceID: ws.ID, UserID: userID, Role: state.Role(req.Role)})
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	s.record(ctx, ws.ID, "updated", "member", userID, "Changed a member's role to "+req.Role)
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"success": true, "member": s.memberView(v.(state.Member))})
}

func (s *Server) handleRemoveMember(ctx *fasthttp.RequestCtx) {
	ws, userID, e := s.memberTarget(ctx, "DELETE /api/members/{userId}", string(ctx.QueryArgs().Peek("owner")))
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	if _, e := s.apply(&state.RemoveMember{WorkspaceID: ws.ID, UserID: userID}); e != nil {
		apierr.Write(ctx, e)
		return
	}
	s.record(ctx, ws.ID, "removed", "member", userID, "Removed a member")
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"success": true})
}

// memberTarget authorizes r in the workspace and returns it with the user
// ID of the path, which must be a member there.
func (s *Server) memberTarget(ctx *fasthttp.RequestCtx, r route, owner string) (state.Workspace, string, *apierr.Error) {
	ws, e := s.workspaceFor(ctx, r, owner)
	if e != nil {
		return state.Workspace{}, "", e
	}
	userID, _ := ctx.UserValue("userId").(string)
	if _, ok := s.fsm.Member(ws.ID, userID); !ok {
		return state.Workspace{}, "", apierr.NotFound("user %s is not a member of %s", userID, ws.Slug)
	}
	return ws, userID, nil
}

// handleTransferOwnership rejects the platform's transfer route with 501.
// Teams here have admins, who may all manage members, and no single owner,
// so there is nothing to transfer.
func handleTransferOwnership(ctx *fasthttp.RequestCtx) {
	apierr.Write(ctx, apierr.New(fasthttp.StatusNotImplemented, apierr.CodeNotImplemented,
		"teams on this server have no single owner, so ownership cannot be transferred: make the member an admin with PATCH /api/members/{userId} and role admin"))
}
