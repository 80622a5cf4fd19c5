package api

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/controlplane/state"
	"github.com/yoloplane/yoloplane/shared/apierr"
	"github.com/yoloplane/yoloplane/shared/ids"
)

// Username length bounds of the contract's owner path segment.
const (
	minUsernameLen = 4
	maxUsernameLen = 32
)

// maxProfileQueryLen is the contract's bound on the username query of
// profile lookups and follows.
const maxProfileQueryLen = 32

// publicUser is the contract's public user profile.
type publicUser struct {
	Username      string            `json:"username"`
	FullName      string            `json:"fullName,omitempty"`
	ImageURL      string            `json:"imageUrl,omitempty"`
	AccountType   string            `json:"accountType"`
	IconLetter    string            `json:"iconLetter,omitempty"`
	Bio           string            `json:"bio,omitempty"`
	Company       string            `json:"company,omitempty"`
	UseCase       string            `json:"useCase,omitempty"`
	Socials       map[string]string `json:"socials,omitempty"`
	FollowerCount int               `json:"followerCount"`
	IsFollowed    bool              `json:"isFollowed"`
}

// handleGetUser returns the public profile of a user or team workspace.
// Profiles are public, so any authenticated caller may read them.
func (s *Server) handleGetUser(ctx *fasthttp.RequestCtx) {
	ws, e := s.profileWorkspace(string(ctx.QueryArgs().Peek("username")))
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"user": s.publicUser(ws, principal(ctx).User.ID)})
}

// handleFollowUser follows or unfollows a user or team workspace.
func (s *Server) handleFollowUser(ctx *fasthttp.RequestCtx) {
	var req struct {
		Username string `json:"username"`
		Followed *bool  `json:"followed"`
	}
	if e := readJSON(ctx, &req, false); e != nil {
		apierr.Write(ctx, e)
		return
	}
	if req.Followed == nil {
		apierr.Write(ctx, apierr.Validation("followed is missing: send true to follow or false to unfollow"))
		return
	}
	ws, e := s.profileWorkspace(req.Username)
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	v, e := s.apply(&state.SetFollow{UserID: principal(ctx).User.ID, WorkspaceID: ws.ID, Followed: *req.Followed})
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, v.(state.FollowState))
}

func (s *Server) profileWorkspace(username string) (state.Workspace, *apierr.Error) {
	if username == "" || len(username) > maxProfileQueryLen {
		return state.Workspace{}, apierr.Validation("username must be 1 to %d characters, got %q", maxProfileQueryLen, username)
	}
	ws, ok := s.fsm.WorkspaceBySlug(strings.ToLower(username))
	if !ok {
		return state.Workspace{}, apierr.NotFound("user %q not found", username)
	}
	return ws, nil
}

func (s *Server) publicUser(ws state.Workspace, callerID string) publicUser {
	followers, followed := s.fsm.Followers(ws.ID, callerID)
	u := publicUser{Username: ws.Slug, FullName: ws.Name, AccountType: accountType(ws),
		IconLetter: iconLetter(ws), FollowerCount: followers, IsFollowed: followed}
	if !ws.Personal {
		return u
	}
	if user, ok := s.fsm.UserByUsername(ws.Slug); ok {
		set := s.fsm.Settings(user.ID)
		u.FullName = displayName(user, set)
		u.ImageURL = s.avatarURL(user.ID)
		u.Bio, u.Company, u.UseCase = set.Bio, set.Company, set.UseCase
		if len(set.Socials) > 0 {
			u.Socials = set.Socials
		}
	}
	return u
}

func accountType(ws state.Workspace) string {
	if ws.Personal {
		return "personal"
	}
	return "team"
}

// iconLetter is the first letter of a workspace's name in upper case,
// which clients draw when there is no avatar.
func iconLetter(ws state.Workspace) string {
	name := ws.Name
	if name == "" {
		name = ws.Slug
	}
	r, _ := utf8.DecodeRuneInString(name)
	if r == utf8.RuneError {
		return ""
	}
	return string(unicode.ToUpper(r))
}

// displayName is the name a user chose in settings, or the one the account
// was created with.
func displayName(u state.User, set state.Settings) string {
	if set.FullName != "" {
		return set.FullName
	}
	if u.DisplayName != "" {
		return u.DisplayName
	}
	return u.Username
}

// handleUsernameCheck reports whether a username is valid and free. Users
// and team workspaces share one namespace, so a team slug is taken too.
func (s *Server) handleUsernameCheck(ctx *fasthttp.RequestCtx) {
	name := string(ctx.QueryArgs().Peek("username"))
	if name == "" {
		apierr.Write(ctx, apierr.Validation("username is missing: send it as the username query parameter"))
		return
	}
	problem := usernameProblem(name)
	taken := problem == "" && s.usernameTaken(name)
	body := map[string]any{"username": name, "valid": problem == "", "available": problem == "" && !taken}
	switch {
	case problem != "":
		body["reason"] = problem
	case taken:
		body["reason"] = "username " + name + " is taken"
	}
	writeJSON(ctx, fasthttp.StatusOK, body)
}

func (s *Server) usernameTaken(name string) bool {
	_, workspace := s.fsm.WorkspaceBySlug(name)
	_, user := s.fsm.UserByUsername(name)
	return workspace || user
}

// usernameProblem returns why name cannot be a username, or "" when it can.
func usernameProblem(name string) string {
	switch {
	case len(name) < minUsernameLen || len(name) > maxUsernameLen:
		return "username must be 4 to 32 characters long"
	case ids.IsID(name):
		return "username must not be 24 hex characters, the form of a resource ID"
	case state.IsReservedName(name):
		return "username " + name + " is a reserved word"
	}
	if err := state.ValidateUsername(name); err != nil {
		return "username must contain only lowercase letters, digits and single hyphens between them"
	}
	return ""
}

// accountTeam is a team workspace in the account summary.
type accountTeam struct {
	UserID     string `json:"userId"`
	Username   string `json:"username"`
	FullName   string `json:"fullName,omitempty"`
	IconLetter string `json:"iconLetter,omitempty"`
	Plan       string `json:"plan"`
	Region     string `json:"region"`
	Role       string `json:"role"`
}

// handleAccountSummary describes the workspace of the caller's API key:
// its plan, credits and resource counts, and the team workspaces the key
// reaches.
func (s *Server) handleAccountSummary(ctx *fasthttp.RequestCtx) {
	p := principal(ctx)
	ws, ok := s.fsm.WorkspaceByID(p.Key.WorkspaceID)
	if !ok {
		s.log.Error("API key names a missing workspace", "key_id", p.Key.ID, "workspace_id", p.Key.WorkspaceID)
		apierr.Write(ctx, apierr.Internal)
		return
	}
	models, err := s.allModels(state.ModelFilter{WorkspaceID: ws.ID})
	if err != nil {
		s.log.Error("list models failed", "workspace_id", ws.ID, "error", err)
		apierr.Write(ctx, apierr.Internal)
		return
	}
	name := ws.Name
	if ws.Personal {
		name = displayName(p.User, s.fsm.Settings(p.User.ID))
	}
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{
		"username": ws.Slug, "name": name, "accountType": accountType(ws), "plan": string(ws.Plan),
		// TODO: report the ledger balance once billing exists; until then
		// every account shows no credits.
		"creditsCents": 0,
		"counts":       map[string]int{"projects": s.countProjects(ws.ID), "datasets": 0, "models": len(models)},
		"teams":        s.teamsOf(p.Key),
	})
}

// teamsOf lists the team workspaces that the API key k reaches.
func (s *Server) teamsOf(k state.APIKey) []accountTeam {
	teams := []accountTeam{}
	for _, ws := range s.fsm.WorkspacesOfKey(k) {
		if ws.Personal {
			continue
		}
		m, _ := s.fsm.Member(ws.ID, k.UserID)
		teams = append(teams, accountTeam{UserID: ws.ID, Username: ws.Slug, FullName: ws.Name, IconLetter: iconLetter(ws),
			Plan: string(ws.Plan), Region: region, Role: string(m.Role)})
	}
	return teams
}
