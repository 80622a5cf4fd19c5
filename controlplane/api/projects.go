package api

import (
	"strconv"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/controlplane/state"
	"github.com/yoloplane/yoloplane/shared/apierr"
	"github.com/yoloplane/yoloplane/shared/ids"
)

// List bounds of project lists: the contract caps owner-route lists at 500.
const maxProjectLimit = 500

// region is the data region every response reports. A single deployment
// stores everything in one place, reported as the contract's default.
const region = "us"

// projectView is a project on ID routes.
type projectView struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Slug        string `json:"slug"`
	Owner       string `json:"owner"`
	Project     string `json:"project"`
	Description string `json:"description"`
	ModelCount  int    `json:"modelCount"`
	CreatedAt   string `json:"createdAt"`
	UpdatedAt   string `json:"updatedAt"`
}

// contractProject is the contract's Project schema, with only the fields
// this server stores and the required ones.
type contractProject struct {
	ID          string `json:"id"`
	Owner       string `json:"owner"`
	Project     string `json:"project"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Visibility  string `json:"visibility"`
	ModelCount  int    `json:"modelCount"`
	StarCount   int    `json:"starCount"`
	IsStarred   bool   `json:"isStarred"`
	CreatedAt   string `json:"createdAt"`
	UpdatedAt   string `json:"updatedAt"`
}

// routeProjects dispatches /api/projects/... by path shape, telling IDs
// from owner names by their form (24 hex characters).
func (s *Server) routeProjects(ctx *fasthttp.RequestCtx) {
	seg := splitPath(ctx)
	method := string(ctx.Method())
	byID := len(seg) > 0 && ids.IsID(seg[0])
	switch {
	case byID && len(seg) == 1:
		s.projectByIDRoutes(ctx, method, seg[0])
	case byID && len(seg) == 2 && seg[1] == "clone" && method == fasthttp.MethodPost:
		s.withProjectByID(ctx, "POST /api/projects/{projectId}/clone", seg[0], s.cloneProjectSeed)
	case (byID && len(seg) == 2 || !byID && len(seg) == 3) && seg[len(seg)-1] == "icon":
		s.routeProjectIcon(ctx, method, seg)
	case len(seg) == 1 && method == fasthttp.MethodGet:
		s.handleListOwnerProjects(ctx, seg[0])
	case len(seg) == 2:
		s.projectByOwnerRoutes(ctx, method, seg[0], seg[1])
	case len(seg) == 3 && seg[2] == "clone" && method == fasthttp.MethodPost:
		s.withProjectBySlug(ctx, "POST /api/projects/{owner}/{project}/clone", seg[0], seg[1], s.cloneProjectContract)
	default:
		apierr.Write(ctx, apierr.NotFound("no route for %s %s", method, ctx.Path()))
	}
}

func (s *Server) projectByIDRoutes(ctx *fasthttp.RequestCtx, method, id string) {
	switch method {
	case fasthttp.MethodGet:
		s.withProjectByID(ctx, "GET /api/projects/{projectId}", id, func(ctx *fasthttp.RequestCtx, p state.Project) {
			writeJSON(ctx, fasthttp.StatusOK, s.projectView(p))
		})
	case fasthttp.MethodPatch:
		s.withProjectByID(ctx, "PATCH /api/projects/{projectId}", id, func(ctx *fasthttp.RequestCtx, p state.Project) {
			if p, ok := s.updateProject(ctx, p); ok {
				writeJSON(ctx, fasthttp.StatusOK, s.projectView(p))
			}
		})
	case fasthttp.MethodDelete:
		s.withProjectByID(ctx, "DELETE /api/projects/{projectId}", id, s.deleteProject)
	default:
		apierr.Write(ctx, methodNotAllowed(ctx))
	}
}

func (s *Server) projectByOwnerRoutes(ctx *fasthttp.RequestCtx, method, owner, slug string) {
	switch method {
	case fasthttp.MethodGet:
		s.withProjectBySlug(ctx, "GET /api/projects/{owner}/{project}", owner, slug, s.getProjectContract)
	case fasthttp.MethodPatch:
		s.withProjectBySlug(ctx, "PATCH /api/projects/{owner}/{project}", owner, slug, func(ctx *fasthttp.RequestCtx, p state.Project) {
			if p, ok := s.updateProject(ctx, p); ok {
				writeJSON(ctx, fasthttp.StatusOK, map[string]any{"success": true, "project": p.Slug})
			}
		})
	case fasthttp.MethodDelete:
		s.withProjectBySlug(ctx, "DELETE /api/projects/{owner}/{project}", owner, slug, s.deleteProject)
	default:
		apierr.Write(ctx, methodNotAllowed(ctx))
	}
}

func methodNotAllowed(ctx *fasthttp.RequestCtx) *apierr.Error {
	return apierr.New(fasthttp.StatusMethodNotAllowed, apierr.CodeBadRequest,
		"method %s is not allowed on %s", ctx.Method(), ctx.Path())
}

// withProjectByID runs h with the live project id after authorizing r.
func (s *Server) withProjectByID(ctx *fasthttp.RequestCtx, r route, id string, h func(*fasthttp.RequestCtx, state.Project)) {
	notFound := apierr.NotFound("project %s not found", id)
	p, ok := s.fsm.ProjectByID(id)
	if !ok || p.DeletedAt != nil {
		apierr.Write(ctx, notFound)
		return
	}
	if e := s.authorize(ctx, r, p.WorkspaceID, notFound); e != nil {
		apierr.Write(ctx, e)
		return
	}
	h(ctx, p)
}

// withProjectBySlug runs h with the live project owner/slug after
// authorizing r.
func (s *Server) withProjectBySlug(ctx *fasthttp.RequestCtx, r route, owner, slug string, h func(*fasthttp.RequestCtx, state.Project)) {
	notFound := apierr.NotFound("project %s/%s not found", owner, slug)
	ws, ok := s.fsm.WorkspaceBySlug(owner)
	if !ok {
		apierr.Write(ctx, notFound)
		return
	}
	p, ok := s.fsm.ProjectBySlug(ws.ID, slug)
	if !ok {
		p.WorkspaceID = ws.ID // a member still learns only "not found"
	}
	if e := s.authorize(ctx, r, ws.ID, notFound); e != nil {
		apierr.Write(ctx, e)
		return
	}
	if !ok {
		apierr.Write(ctx, notFound)
		return
	}
	h(ctx, p)
}

// parseLimit reads the limit query argument within [1, max].
func parseLimit(ctx *fasthttp.RequestCtx, def, max int) (int, *apierr.Error) {
	v := ctx.QueryArgs().Peek("limit")
	if len(v) == 0 {
		return def, nil
	}
	n, err := strconv.Atoi(string(v))
	if err != nil || n < 1 || n > max {
		return 0, apierr.Validation("limit must be a whole number between 1 and %d, got %q", max, v)
	}
	return n, nil
}

// handleListProjects lists the projects of one workspace on ID routes:
// owner or username selects it, the API key's workspace is the default.
func (s *Server) handleListProjects(ctx *fasthttp.RequestCtx) {
	args := ctx.QueryArgs()
	owner := string(args.Peek("owner"))
	if owner == "" {
		owner = string(args.Peek("username"))
	}
	ws, e := s.workspaceFor(ctx, "GET /api/projects", owner)
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	limit, e := parseLimit(ctx, defaultListLimit, maxProjectLimit)
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	projects, next, err := s.fsm.ListProjects(ws.ID, string(args.Peek("cursor")), limit)
	if err != nil {
		apierr.Write(ctx, apierr.Validation("%s", stateMessage(err)))
		return
	}
	views := make([]projectView, 0, len(projects))
	for _, p := range projects {
		views = append(views, s.projectView(p))
	}
	body := map[string]any{"projects": views, "total": s.countProjects(ws.ID)}
	if next != "" {
		body["nextCursor"] = next
	}
	writeJSON(ctx, fasthttp.StatusOK, body)
}

func (s *Server) handleListOwnerProjects(ctx *fasthttp.RequestCtx, owner string) {
	ws, e := s.workspaceFor(ctx, "GET /api/projects/{owner}", owner)
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	limit, e := parseLimit(ctx, defaultListLimit, maxProjectLimit)
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	projects, _, err := s.fsm.ListProjects(ws.ID, "", limit)
	if err != nil {
		s.log.Error("list projects failed", "workspace_id", ws.ID, "error", err)
		apierr.Write(ctx, apierr.Internal)
		return
	}
	views := make([]contractProject, 0, len(projects))
	for _, p := range projects {
		views = append(views, s.contractProject(p, ws))
	}
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"projects": views, "total": s.countProjects(ws.ID), "region": region})
}

func (s *Server) countProjects(workspaceID string) int {
	n, cursor := 0, ""
	for {
		page, next, err := s.fsm.ListProjects(workspaceID, cursor, state.MaxListLimit)
		if err != nil {
			return n
		}
		n += len(page)
		if next == "" {
			return n
		}
		cursor = next
	}
}

func (s *Server) liveModels(projectID string) []state.Model {
	models, err := s.allModels(state.ModelFilter{ProjectID: projectID})
	if err != nil {
		s.log.Error("list models failed", "project_id", projectID, "error", err)
	}
	return models
}

func (s *Server) projectView(p state.Project) projectView {
	v := projectView{
		ID: p.ID, Name: p.Name, Slug: p.Slug, Project: p.Slug, Description: p.Description,
		ModelCount: len(s.liveModels(p.ID)), CreatedAt: formatTime(p.CreatedAt), UpdatedAt: formatTime(p.UpdatedAt),
	}
	if ws, ok := s.fsm.WorkspaceByID(p.WorkspaceID); ok {
		v.Owner = ws.Slug
	}
	return v
}

func (s *Server) contractProject(p state.Project, ws state.Workspace) contractProject {
	return contractProject{
		ID: p.ID, Owner: ws.Slug, Project: p.Slug, Name: p.Name, Description: p.Description,
		Visibility: "private", ModelCount: len(s.liveModels(p.ID)),
		CreatedAt: formatTime(p.CreatedAt), UpdatedAt: formatTime(p.UpdatedAt),
	}
}

func (s *Server) getProjectContract(ctx *fasthttp.RequestCtx, p state.Project) {
	ws, _ := s.fsm.WorkspaceByID(p.WorkspaceID)
	project := map[string]any{}
	cp := s.contractProject(p, ws)
	project["id"], project["owner"], project["project"], project["name"] = cp.ID, cp.Owner, cp.Project, cp.Name
	project["visibility"], project["modelCount"], project["starCount"], project["isStarred"] = cp.Visibility, cp.ModelCount, 0, false
	project["createdAt"], project["updatedAt"], project["metadata"] = cp.CreatedAt, cp.UpdatedAt, map[string]any{}
	if p.Description != "" {
		project["description"] = p.Description
	}
	models := []map[string]any{}
	for _, m := range s.liveModels(p.ID) {
		models = append(models, map[string]any{
			"id": m.ID, "model": m.Slug, "name": m.Name, "epochCount": 0, "hasWeights": m.FileSHA256 != "",
			"createdAt": formatTime(m.CreatedAt), "updatedAt": formatTime(m.UpdatedAt),
		})
	}
	m, _ := s.fsm.Member(p.WorkspaceID, principal(ctx).User.ID)
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"project": project, "models": models, "isOwner": m.Role == state.RoleAdmin})
}

// projectRequest is the body of project create, update and clone on both
// route families. Project is the slug; Slug is accepted as its alias.
type projectRequest struct {
	Owner       string  `json:"owner"`
	Project     string  `json:"project"`
	Slug        string  `json:"slug"`
	Name        *string `json:"name"`
	Description *string `json:"description"`
}

func (r projectRequest) slug() string {
	if r.Project != "" {
		return r.Project
	}
	if r.Slug != "" {
		return r.Slug
	}
	if r.Name != nil {
		return Slugify(*r.Name)
	}
	return ""
}

// handleCreateProject creates a project. A body with "project" (the
// contract's form) gets the contract's response; a seed-style body gets
// projectId as well.
func (s *Server) handleCreateProject(ctx *fasthttp.RequestCtx) {
	var req projectRequest
	if e := readJSON(ctx, &req, false); e != nil {
		apierr.Write(ctx, e)
		return
	}
	ws, e := s.workspaceFor(ctx, "POST /api/projects", req.Owner)
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	if req.slug() == "" {
		apierr.Write(ctx, apierr.Validation(`name is missing: send the project's "name", or its "slug" ("project" on owner routes)`))
		return
	}
	name := req.slug()
	if req.Name != nil {
		name = *req.Name
	}
	cmd := &state.CreateProject{ProjectID: ids.New(), WorkspaceID: ws.ID, Slug: req.slug(), Name: name, CreatedAt: s.now()}
	if req.Description != nil {
		cmd.Description = *req.Description
	}
	v, e := s.applyRecorded(ctx, cmd, ws.ID, "created", "project", cmd.ProjectID, "Created project "+cmd.Slug)
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	p := v.(state.Project)
	body := map[string]any{"id": p.ID, "owner": ws.Slug, "project": p.Slug, "region": region}
	if req.Project == "" {
		body["projectId"] = p.ID
		body["name"] = p.Name
	}
	writeJSON(ctx, fasthttp.StatusCreated, body)
}

func (s *Server) updateProject(ctx *fasthttp.RequestCtx, p state.Project) (state.Project, bool) {
	var req projectRequest
	if e := readJSON(ctx, &req, false); e != nil {
		apierr.Write(ctx, e)
		return state.Project{}, false
	}
	cmd := &state.UpdateProject{ProjectID: p.ID, Name: req.Name, Description: req.Description, UpdatedAt: s.now()}
	if slug := req.Project + req.Slug; slug != "" {
		cmd.Slug = &slug
		if req.Project != "" && req.Slug != "" {
			apierr.Write(ctx, apierr.Validation("send either project or slug, not both"))
			return state.Project{}, false
		}
	}
	slug := p.Slug
	if cmd.Slug != nil {
		slug = *cmd.Slug
	}
	v, e := s.applyRecorded(ctx, cmd, p.WorkspaceID, "updated", "project", p.ID, "Updated project "+slug)
	if e != nil {
		apierr.Write(ctx, e)
		return state.Project{}, false
	}
	updated := v.(state.Project)
	return updated, true
}

func (s *Server) deleteProject(ctx *fasthttp.RequestCtx, p state.Project) {
	cascaded := len(s.liveModels(p.ID))
	cmd := &state.DeleteProject{ProjectID: p.ID, DeletedAt: s.now()}
	if _, e := s.applyRecorded(ctx, cmd, p.WorkspaceID, "deleted", "project", p.ID, "Moved project "+p.Slug+" to the trash"); e != nil {
		apierr.Write(ctx, e)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"success": true, "cascadedModels": cascaded})
}
