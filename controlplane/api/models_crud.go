package api

import (
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/controlplane/state"
	"github.com/yoloplane/yoloplane/dataplane/predictapi"
	"github.com/yoloplane/yoloplane/shared/apierr"
)

// maxProjectModelLimit is the contract's bound on owner-route model lists.
const maxProjectModelLimit = 100

type modelHandler func(*fasthttp.RequestCtx, state.Model)

func (s *Server) modelByIDRoutes(ctx *fasthttp.RequestCtx, method, id string, rest []string) {
	op := method + " " + strings.Join(rest, "/")
	switch op {
	case "GET ":
		s.withModelByID(ctx, "GET /api/models/{modelId}", id, func(ctx *fasthttp.RequestCtx, m state.Model) {
			writeJSON(ctx, fasthttp.StatusOK, s.view(m))
		})
	case "PATCH ":
		s.withModelByID(ctx, "PATCH /api/models/{modelId}", id, func(ctx *fasthttp.RequestCtx, m state.Model) {
			if m, ok := s.updateModel(ctx, m); ok {
				writeJSON(ctx, fasthttp.StatusOK, s.view(m))
			}
		})
	case "DELETE ":
		s.withModelByID(ctx, "DELETE /api/models/{modelId}", id, s.deleteModel)
	case "GET files":
		s.withModelByID(ctx, "GET /api/models/{modelId}/files", id, s.modelFiles)
	case "POST clone":
		s.withModelByID(ctx, "POST /api/models/{modelId}/clone", id, s.cloneModel)
	case "POST track-download":
		s.withModelByID(ctx, "POST /api/models/{modelId}/track-download", id, s.trackDownload)
	case "POST predict":
		m, err := s.modelForCaller(ctx, "POST /api/models/{modelId}/predict", id)
		if err != nil {
			s.drainAndFail(ctx, err)
			return
		}
		s.routeModelPredict(ctx, m, predictapi.ShapeSeed)
	case "POST predict/warmup", "POST predict/token":
		m, err := s.modelForCaller(ctx, route("POST /api/models/{modelId}/"+strings.TrimPrefix(op, "POST ")), id)
		if err != nil {
			apierr.Write(ctx, err)
			return
		}
		if op == "POST predict/token" {
			s.issuePredictToken(ctx, m)
		} else {
			s.warmupModel(ctx, m)
		}
	default:
		apierr.Write(ctx, apierr.NotFound("no route for %s %s", method, ctx.Path()))
	}
}

func (s *Server) modelByOwnerRoutes(ctx *fasthttp.RequestCtx, method, owner, project, model string, rest []string) {
	by := func(r route, h modelHandler) { s.withModelBySlugs(ctx, r, owner, project, model, h) }
	switch method + " " + strings.Join(rest, "/") {
	case "GET ":
		by("GET /api/models/{owner}/{project}/{model}", s.getModelContract)
	case "PATCH ":
		by("PATCH /api/models/{owner}/{project}/{model}", func(ctx *fasthttp.RequestCtx, m state.Model) {
			if m, ok := s.updateModel(ctx, m); ok {
				writeJSON(ctx, fasthttp.StatusOK, map[string]any{"success": true, "model": m.Slug})
			}
		})
	case "DELETE ":
		by("DELETE /api/models/{owner}/{project}/{model}", s.deleteModel)
	case "GET files":
		by("GET /api/models/{owner}/{project}/{model}/files", s.modelFiles)
	case "POST clone":
		by("POST /api/models/{owner}/{project}/{model}/clone", s.cloneModel)
	case "POST track-download":
		by("POST /api/models/{owner}/{project}/{model}/track-download", s.trackDownload)
	case "POST predict":
		m, err := s.modelBySlugs(ctx, "POST /api/models/{owner}/{project}/{model}/predict", owner, project, model)
		if err != nil {
			s.drainAndFail(ctx, err)
			return
		}
		s.routeModelPredict(ctx, m, predictapi.ShapeContract)
	default:
		apierr.Write(ctx, apierr.NotFound("no route for %s %s", method, ctx.Path()))
	}
}

func (s *Server) withModelByID(ctx *fasthttp.RequestCtx, r route, id string, h modelHandler) {
	notFound := apierr.NotFound("model %s not found", id)
	m, ok := s.fsm.ModelByID(strings.ToLower(id))
	if !ok || m.DeletedAt != nil {
		apierr.Write(ctx, notFound)
		return
	}
	if e := s.authorize(ctx, r, m.WorkspaceID, notFound); e != nil {
		apierr.Write(ctx, e)
		return
	}
	h(ctx, m)
}

func (s *Server) withModelBySlugs(ctx *fasthttp.RequestCtx, r route, owner, project, model string, h modelHandler) {
	notFound := apierr.NotFound("model %s/%s/%s not found", owner, project, model)
	ws, ok := s.fsm.WorkspaceBySlug(owner)
	if !ok {
		apierr.Write(ctx, notFound)
		return
	}
	if e := s.authorize(ctx, r, ws.ID, notFound); e != nil {
		apierr.Write(ctx, e)
		return
	}
	p, ok := s.fsm.ProjectBySlug(ws.ID, project)
	if !ok {
		apierr.Write(ctx, notFound)
		return
	}
	m, ok := s.fsm.ModelBySlug(p.ID, model)
	if !ok {
		apierr.Write(ctx, notFound)
		return
	}
	h(ctx, m)
}

// contractModel returns the contract's Model schema for m.
func (s *Server) contractModel(m state.Model) map[string]any {
	v := s.view(m)
	out := map[string]any{
		"id": m.ID, "owner": v.Owner, "project": v.Project, "model": m.Slug, "visibility": "private",
		"name": m.Name, "hasWeights": m.FileSHA256 != "", "starCount": 0, "isStarred": false,
		"createdAt": v.CreatedAt, "updatedAt": v.UpdatedAt, "projectName": v.Project,
	}
	if p, ok := s.fsm.ProjectByID(m.ProjectID); ok {
		out["projectName"] = p.Name
	}
	if m.Task != "" {
		out["task"] = m.Task
	}
	if m.Status == state.ModelStatusReady {
		out["status"] = "completed"
	}
	return out
}

func (s *Server) getModelContract(ctx *fasthttp.RequestCtx, m state.Model) {
	model := s.contractModel(m)
	md := map[string]any{}
	for k, v := range m.Metadata {
		md[k] = v
	}
	model["metadata"] = md
	member, _ := s.fsm.Member(m.WorkspaceID, principal(ctx).User.ID)
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"model": model, "isOwner": member.Role == state.RoleAdmin})
}

func (s *Server) handleListProjectModels(ctx *fasthttp.RequestCtx, owner, project string) {
	s.withProjectBySlug(ctx, "GET /api/models/{owner}/{project}", owner, project, func(ctx *fasthttp.RequestCtx, p state.Project) {
		limit, e := parseLimit(ctx, defaultListLimit, maxProjectModelLimit)
		if e != nil {
			apierr.Write(ctx, e)
			return
		}
		models, _, err := s.fsm.ListModels(state.ModelFilter{ProjectID: p.ID}, "", limit)
		if err != nil {
			s.log.Error("list models failed", "project_id", p.ID, "error", err)
			apierr.Write(ctx, apierr.Internal)
			return
		}
		views := make([]map[string]any, 0, len(models))
		for _, m := range models {
			views = append(views, s.contractModel(m))
		}
		writeJSON(ctx, fasthttp.StatusOK, map[string]any{"models": views, "region": region})
	})
}

// modelUpdate is the body of a model update on both route families.
type modelUpdate struct {
	Name     *string           `json:"name"`
	Model    *string           `json:"model"`
	Slug     *string           `json:"slug"`
	Task     *string           `json:"task"`
	Metadata map[string]string `json:"metadata"`
}

func (s *Server) updateModel(ctx *fasthttp.RequestCtx, m state.Model) (state.Model, bool) {
	var req modelUpdate
	if e := readJSON(ctx, &req, false); e != nil {
		apierr.Write(ctx, e)
		return state.Model{}, false
	}
	slug := req.Model
	if slug == nil {
		slug = req.Slug
	}
	newSlug := m.Slug
	if slug != nil {
		newSlug = *slug
	}
	cmd := &state.UpdateModel{ModelID: m.ID, Name: req.Name, Slug: slug, Task: req.Task, Metadata: req.Metadata, UpdatedAt: s.now()}
	v, e := s.applyRecorded(ctx, cmd, m.WorkspaceID, "updated", "model", m.ID, "Updated model "+newSlug)
	if e != nil {
		apierr.Write(ctx, e)
		return state.Model{}, false
	}
	updated := v.(state.Model)
	return updated, true
}

func (s *Server) deleteModel(ctx *fasthttp.RequestCtx, m state.Model) {
	cmd := &state.DeleteModel{ModelID: m.ID, DeletedAt: s.now()}
	if _, e := s.applyRecorded(ctx, cmd, m.WorkspaceID, "deleted", "model", m.ID, "Moved model "+m.Slug+" to the trash"); e != nil {
		apierr.Write(ctx, e)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"success": true})
}
