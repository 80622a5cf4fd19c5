package api

import (
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/controlplane/state"
	"github.com/yoloplane/yoloplane/dataplane/predictapi"
	"github.com/yoloplane/yoloplane/shared/apierr"
	"github.com/yoloplane/yoloplane/shared/httpserver"
	"github.com/yoloplane/yoloplane/shared/ids"
)

// List bounds for GET /api/models.
const (
	defaultListLimit = 20
	maxListLimit     = 500
)

// modelView is the JSON form of a model on ID routes. Owner, Project and
// Model are the slugs of its owner-route address.
type modelView struct {
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	Slug      string            `json:"slug"`
	Owner     string            `json:"owner"`
	Project   string            `json:"project"`
	Model     string            `json:"model"`
	ProjectID string            `json:"projectId"`
	Task      string            `json:"task,omitempty"`
	Format    string            `json:"format"`
	Status    string            `json:"status"`
	FileSize  int64             `json:"fileSize,omitempty"`
	SHA256    string            `json:"sha256,omitempty"`
	Metadata  map[string]string `json:"metadata,omitempty"`
	Loaded    bool              `json:"loaded"`
	CreatedAt string            `json:"createdAt"`
	UpdatedAt string            `json:"updatedAt"`
}

// routeModels dispatches /api/models/... by path shape. A segment in the
// owner-or-ID position is a model ID exactly when it is 24 hex characters,
// which the username rules keep apart from owner names.
func (s *Server) routeModels(ctx *fasthttp.RequestCtx) {
	seg := splitPath(ctx)
	method := string(ctx.Method())
	switch {
	case len(seg) >= 1 && ids.IsID(seg[0]):
		s.modelByIDRoutes(ctx, method, seg[0], seg[1:])
	case len(seg) == 1 && seg[0] == "completed" && method == fasthttp.MethodGet:
		s.handleListCompletedModels(ctx)
	case len(seg) == 2 && method == fasthttp.MethodGet:
		s.handleListProjectModels(ctx, seg[0], seg[1])
	case len(seg) >= 3:
		s.modelByOwnerRoutes(ctx, method, seg[0], seg[1], seg[2], seg[3:])
	default:
		apierr.Write(ctx, apierr.NotFound("no route for %s %s", method, ctx.Path()))
	}
}

// handleListModels lists live models of the caller's workspaces, filtered
// by projectId and task.
func (s *Server) handleListModels(ctx *fasthttp.RequestCtx) {
	limit, e := parseLimit(ctx, defaultListLimit, maxListLimit)
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	args := ctx.QueryArgs()
	filter := state.ModelFilter{ProjectID: string(args.Peek("projectId")), Task: string(args.Peek("task"))}
	if filter.ProjectID != "" {
		p, ok := s.fsm.ProjectByID(filter.ProjectID)
		notFound := apierr.NotFound("project %s not found", filter.ProjectID)
		if !ok || p.DeletedAt != nil {
			apierr.Write(ctx, notFound)
			return
		}
		if e := s.authorize(ctx, "GET /api/models", p.WorkspaceID, notFound); e != nil {
			apierr.Write(ctx, e)
			return
		}
	}
	views := []modelView{}
	total := 0
	for _, ws := range s.fsm.WorkspacesOfKey(principal(ctx).Key) {
		filter.WorkspaceID = ws.ID
		models, err := s.allModels(filter)
		if err != nil {
			s.log.Error("list models failed", "workspace_id", ws.ID, "error", err)
			apierr.Write(ctx, apierr.Internal)
			return
		}
		total += len(models)
		for _, m := range models {
			if len(views) < limit {
				views = append(views, s.view(m))
			}
		}
	}
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"models": views, "total": total})
}

func (s *Server) servePredict(ctx *fasthttp.RequestCtx, m state.Model, shape predictapi.Shape) {
	loaded := s.loaded(m.ID)
	if loaded == nil && m.Status == state.ModelStatusReady && s.backend.LoadModel != nil {
		// A voter loads a model uploaded through another voter on its
		// first predict.
		if e := s.loadLocal(ctx, m); e != nil {
			s.drainAndFail(ctx, e)
			return
		}
		loaded = s.loaded(m.ID)
	}
	if loaded == nil {
		e := apierr.New(fasthttp.StatusServiceUnavailable, apierr.CodeServiceUnavailable,
			"model %s is not loaded on this server (status %s): register it with `yoloplane serve --model FILE`", m.ID, m.Status)
		if shape == predictapi.ShapeSeed && m.Status != state.ModelStatusReady {
			e = apierr.New(fasthttp.StatusConflict, apierr.CodeConflict,
				"model %s has status %s and cannot serve predictions until it is exported to ONNX", m.ID, m.Status)
		}
		s.drainAndFail(ctx, e)
		return
	}
	s.predict.Serve(ctx, predictapi.Target{ID: m.ID, Name: m.Name, Model: loaded}, shape)
}

// drainAndFail writes e. When the body is being streamed because it is over
// the limit, the 413 takes precedence, as the client must resend anyway.
func (s *Server) drainAndFail(ctx *fasthttp.RequestCtx, e *apierr.Error) {
	if s.predict.IsTooLarge(ctx) {
		s.predict.Serve(ctx, predictapi.Target{}, predictapi.ShapeSeed)
		return
	}
	apierr.Write(ctx, e)
}

// modelForCaller returns the model with the given ID when the caller's key
// reaches its workspace, for r. Models in workspaces the caller is not a
// member of are reported as not found, so IDs cannot be probed.
func (s *Server) modelForCaller(ctx *fasthttp.RequestCtx, r route, id string) (state.Model, *apierr.Error) {
	notFound := apierr.NotFound("model %s not found", id)
	m, ok := s.fsm.ModelByID(strings.ToLower(id))
	if !ok || m.DeletedAt != nil {
		return state.Model{}, notFound
	}
	if _, e := s.reach(ctx, r, m.WorkspaceID, notFound); e != nil {
		return state.Model{}, e
	}
	return m, nil
}

// modelBySlugs returns the model owner/project/model when the caller's key
// reaches the workspace owner, for r.
func (s *Server) modelBySlugs(ctx *fasthttp.RequestCtx, r route, owner, project, model string) (state.Model, *apierr.Error) {
	notFound := apierr.NotFound("model %s/%s/%s not found", owner, project, model)
	ws, ok := s.fsm.WorkspaceBySlug(owner)
	if !ok {
		return state.Model{}, notFound
	}
	if _, e := s.reach(ctx, r, ws.ID, notFound); e != nil {
		return state.Model{}, e
	}
	p, ok := s.fsm.ProjectBySlug(ws.ID, project)
	if !ok || p.DeletedAt != nil {
		return state.Model{}, notFound
	}
	m, ok := s.fsm.ModelBySlug(p.ID, model)
	if !ok || m.DeletedAt != nil {
		return state.Model{}, notFound
	}
	return m, nil
}

// allModels returns every live model that matches filter, page by page.
func (s *Server) allModels(filter state.ModelFilter) ([]state.Model, error) {
	var all []state.Model
	cursor := ""
	for {
		page, next, err := s.fsm.ListModels(filter, cursor, state.MaxListLimit)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if next == "" {
			return all, nil
		}
		cursor = next
	}
}

// AllModels returns every live model that matches filter.
func (s *Server) AllModels(filter state.ModelFilter) ([]state.Model, error) {
	return s.allModels(filter)
}

func (s *Server) view(m state.Model) modelView {
	v := modelView{
		ID: m.ID, Name: m.Name, Slug: m.Slug, Model: m.Slug, ProjectID: m.ProjectID,
		Task: m.Task, Format: m.Format, Status: m.Status, FileSize: m.FileSize,
		SHA256: m.FileSHA256, Metadata: m.Metadata, Loaded: s.loaded(m.ID) != nil,
		CreatedAt: formatTime(m.CreatedAt), UpdatedAt: formatTime(m.UpdatedAt),
	}
	if ws, ok := s.fsm.WorkspaceByID(m.WorkspaceID); ok {
		v.Owner = ws.Slug
	}
	if p, ok := s.fsm.ProjectByID(m.ProjectID); ok {
		v.Project = p.Slug
	}
	return v
}

func writeJSON(ctx *fasthttp.RequestCtx, status int, v any) { httpserver.WriteJSON(ctx, status, v) }
