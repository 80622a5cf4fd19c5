package api

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/controlplane/state"
	"github.com/yoloplane/yoloplane/regions"
	"github.com/yoloplane/yoloplane/shared/apierr"
	"github.com/yoloplane/yoloplane/shared/ids"
)

// deploymentsOfCaller returns the deployments of the caller's workspaces
// that match modelID and status when they are set.
func (s *Server) deploymentsOfCaller(ctx *fasthttp.RequestCtx, workspaceID, modelID, status string) []state.Deployment {
	var out []state.Deployment
	for _, ws := range s.fsm.WorkspacesOfKey(principal(ctx).Key) {
		if workspaceID != "" && ws.ID != workspaceID {
			continue
		}
		for _, d := range s.fsm.Deployments(ws.ID) {
			if (modelID == "" || d.Model.ModelID == modelID) && (status == "" || d.Status == status) {
				out = append(out, d)
			}
		}
	}
	return out
}

var deploymentStatuses = []string{"creating", "deploying", "ready", "stopping", "stopped", "failed"}

func statusFilter(ctx *fasthttp.RequestCtx) (string, *apierr.Error) {
	status := string(ctx.QueryArgs().Peek("status"))
	if status != "" && !contains(deploymentStatuses, status) {
		return "", apierr.Validation("status %q must be one of %s", status, strings.Join(deploymentStatuses, ", "))
	}
	return status, nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func (s *Server) handleListDeployments(ctx *fasthttp.RequestCtx) {
	limit, e := parseLimit(ctx, defaultDeploymentLimit, maxDeploymentLimit)
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	status, e := statusFilter(ctx)
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	deps := s.deploymentsOfCaller(ctx, "", strings.ToLower(string(ctx.QueryArgs().Peek("modelId"))), status)
	views := []seedDeploymentView{}
	for _, d := range deps[:min(limit, len(deps))] {
		views = append(views, s.seedDeployment(d))
	}
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"deployments": views, "total": len(deps)})
}

func (s *Server) handleListOwnerDeployments(ctx *fasthttp.RequestCtx, owner string) {
	limit, e := parseLimit(ctx, defaultDeploymentLimit, maxDeploymentLimit)
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	status, e := statusFilter(ctx)
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	ws, ok := s.fsm.WorkspaceBySlug(owner)
	notFound := apierr.NotFound("workspace %q not found: check the owner name", owner)
	if !ok {
		apierr.Write(ctx, notFound)
		return
	}
	if e := s.authorize(ctx, "GET /api/deployments/{owner}", ws.ID, notFound); e != nil {
		apierr.Write(ctx, e)
		return
	}
	modelID := ""
	if ref := string(ctx.QueryArgs().Peek("model")); ref != "" {
		project, model, _ := strings.Cut(ref, "/")
		m, e := s.modelBySlugs(ctx, "GET /api/deployments/{owner}", owner, project, model)
		if e != nil {
			apierr.Write(ctx, e)
			return
		}
		modelID = m.ID
	}
	deps := s.deploymentsOfCaller(ctx, ws.ID, modelID, status)
	views := []contractDeploymentView{}
	for _, d := range deps[:min(limit, len(deps))] {
		views = append(views, s.contractDeployment(d))
	}
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"deployments": views, "total": len(deps), "region": region})
}

// handleCreateDeployment creates a deployment of a model on ID routes. The
// deployment's name in owner routes is derived from its display name or
// the model's, with a number appended when taken.
func (s *Server) handleCreateDeployment(ctx *fasthttp.RequestCtx) {
	var req struct {
		ModelID string `json:"modelId"`
		Region  string `json:"region"`
		Name    string `json:"name"`
	}
	if e := readJSON(ctx, &req, false); e != nil {
		apierr.Write(ctx, e)
		return
	}
	if req.ModelID == "" {
		apierr.Write(ctx, apierr.Validation("modelId is missing: send the ID of the model to deploy"))
		return
	}
	m, e := s.modelForCaller(ctx, "POST /api/deployments", req.ModelID)
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	if e := s.authorize(ctx, "POST /api/deployments", m.WorkspaceID, apierr.NotFound("model %s not found", req.ModelID)); e != nil {
		apierr.Write(ctx, e)
		return
	}
	if req.Name == "" {
		req.Name = m.Name
	}
	slug := s.freeDeploymentSlug(m.WorkspaceID, Slugify(req.Name), m.Slug)
	d, ok := s.createDeployment(ctx, m, slug, req.Name, req.Region)
	if ok {
		writeJSON(ctx, fasthttp.StatusCreated, s.seedDeployment(d))
	}
}

func (s *Server) freeDeploymentSlug(workspaceID, base, fallback string) string {
	if base == "" {
		base = fallback
	}
	base = base[:min(len(base), 90)]
	slug := base
	for i := 2; ; i++ {
		if _, taken := s.fsm.DeploymentBySlug(workspaceID, slug); !taken {
			return slug
		}
		slug = base + "-" + strconv.Itoa(i)
	}
}

func (s *Server) createDeployment(ctx *fasthttp.RequestCtx, m state.Model, slug, name, regionID string) (state.Deployment, bool) {
	if regionID == "" {
		regionID = regions.DefaultRegion
	}
	if _, ok := regions.Lookup(regionID); !ok {
		apierr.Write(ctx, apierr.Validation("region %q is not available: choose one of %s", regionID, strings.Join(regions.IDs(), ", ")))
		return state.Deployment{}, false
	}
	v, e := s.apply(&state.CreateDeployment{
		DeploymentID: ids.New(), WorkspaceID: m.WorkspaceID, Slug: slug, Name: name,
		ModelID: m.ID, Region: regionID, CreatedAt: s.now(),
	})
	if e != nil {
		apierr.Write(ctx, e)
		return state.Deployment{}, false
	}
	d := v.(state.Deployment)
	s.record(ctx, d.WorkspaceID, "created", "deployment", d.ID, fmt.Sprintf("deployed model %s in %s", m.Name, d.Region))
	return d, true
}

func (s *Server) handleCreateOwnerDeployment(ctx *fasthttp.RequestCtx, owner string) {
	var req struct {
		Project    string `json:"project"`
		Model      string `json:"model"`
		Deployment string `json:"deployment"`
		Name       string `json:"name"`
		Region     string `json:"region"`
	}
	if e := readJSON(ctx, &req, false); e != nil {
		apierr.Write(ctx, e)
		return
	}
	for field, v := range map[string]string{"project": req.Project, "model": req.Model, "deployment": req.Deployment, "name": req.Name, "region": req.Region} {
		if v == "" {
			apierr.Write(ctx, apierr.Validation("%s is missing: send project, model, deployment, name and region", field))
			return
		}
	}
	m, e := s.modelBySlugs(ctx, "POST /api/deployments/{owner}", owner, req.Project, req.Model)
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	if e := s.authorize(ctx, "POST /api/deployments/{owner}", m.WorkspaceID, apierr.NotFound("workspace %q not found", owner)); e != nil {
		apierr.Write(ctx, e)
		return
	}
	d, ok := s.createDeployment(ctx, m, req.Deployment, req.Name, req.Region)
	if ok {
		writeJSON(ctx, fasthttp.StatusCreated, map[string]any{
			"id": d.ID, "deployment": d.Slug, "status": d.Status, "region": d.Region,
			"message": "deployment created: it becomes ready once a node in " + d.Region + " has loaded the model",
		})
	}
}

func (s *Server) deleteDeployment(ctx *fasthttp.RequestCtx, d state.Deployment, _ bool) {
	if _, e := s.apply(&state.DeleteDeployment{DeploymentID: d.ID}); e != nil {
		apierr.Write(ctx, e)
		return
	}
	s.record(ctx, d.WorkspaceID, "deleted", "deployment", d.ID, "deleted deployment "+d.Name)
	writeJSON(ctx, fasthttp.StatusOK, map[string]bool{"success": true})
}

// setDesired starts or stops d; op is "start" or "stop".
func (s *Server) setDesired(ctx *fasthttp.RequestCtx, d state.Deployment, op string) (state.Deployment, bool) {
	desired, action := state.DesiredRunning, "started"
	if op == "stop" {
		desired, action = state.DesiredStopped, "stopped"
	}
	v, e := s.apply(&state.UpdateDeploymentDesired{DeploymentID: d.ID, Desired: desired, UpdatedAt: s.now()})
	if e != nil {
		apierr.Write(ctx, e)
		return state.Deployment{}, false
	}
	s.record(ctx, d.WorkspaceID, action, "deployment", d.ID, action+" deployment "+d.Name)
	return v.(state.Deployment), true
}

// patchDeployment runs the contract's PATCH actions: start, stop and
// replace.
func (s *Server) patchDeployment(ctx *fasthttp.RequestCtx, d state.Deployment) {
	var req struct {
		Action  string  `json:"action"`
		Project string  `json:"project"`
		Model   string  `json:"model"`
		Name    *string `json:"name"`
	}
	if e := readJSON(ctx, &req, false); e != nil {
		apierr.Write(ctx, e)
		return
	}
	switch req.Action {
	case "start", "stop":
		if d, ok := s.setDesired(ctx, d, req.Action); ok {
			writeUpdate(ctx, d)
		}
	case "replace":
		s.replaceModel(ctx, d, req.Project, req.Model, req.Name)
	default:
		apierr.Write(ctx, apierr.Validation("action %q must be start, stop or replace", req.Action))
	}
}

func (s *Server) replaceModel(ctx *fasthttp.RequestCtx, d state.Deployment, project, model string, name *string) {
	if project == "" || model == "" {
		apierr.Write(ctx, apierr.Validation("replace needs project and model: the names of the model to roll out"))
		return
	}
	ws, _ := s.fsm.WorkspaceByID(d.WorkspaceID)
	m, e := s.modelBySlugs(ctx, "PATCH /api/deployments/{owner}/{deployment}", ws.Slug, project, model)
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	v, e := s.apply(&state.ReplaceDeploymentModel{DeploymentID: d.ID, ModelID: m.ID, Name: name, UpdatedAt: s.now()})
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	s.record(ctx, d.WorkspaceID, "updated", "deployment", d.ID, "rolled out model "+m.Name+" on deployment "+d.Name)
	writeUpdate(ctx, v.(state.Deployment))
}

// writeUpdate responds to a PATCH: 200 when d is already in its final state,
// 202 while it is still deploying.
func writeUpdate(ctx *fasthttp.RequestCtx, d state.Deployment) {
	switch {
	case d.Desired == state.DesiredStopped:
		writeJSON(ctx, fasthttp.StatusOK, map[string]any{"success": true, "status": "stopped", "message": "deployment stopped"})
	case d.Status == state.DeploymentReady:
		writeJSON(ctx, fasthttp.StatusOK, map[string]any{"success": true, "status": "ready", "message": "deployment is ready"})
	default:
		writeJSON(ctx, fasthttp.StatusAccepted, map[string]any{"success": true, "status": "deploying",
			"message": "deployment is deploying: poll GET /api/deployments/" + d.ID + " until its status is ready"})
	}
}
