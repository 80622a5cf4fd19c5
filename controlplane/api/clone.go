package api

import (
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/controlplane/state"
	"github.com/yoloplane/yoloplane/shared/apierr"
	"github.com/yoloplane/yoloplane/shared/ids"
)

// Slugify turns a display name or file stem into a slug: lower case, runs
// of other characters become one hyphen, at most 100 characters.
func Slugify(name string) string {
	var b strings.Builder
	hyphen := false
	for _, r := range strings.ToLower(name) {
		if 'a' <= r && r <= 'z' || '0' <= r && r <= '9' {
			b.WriteRune(r)
			hyphen = false
			continue
		}
		if b.Len() > 0 && !hyphen {
			b.WriteByte('-')
			hyphen = true
		}
	}
	slug := strings.TrimSuffix(b.String(), "-")
	if len(slug) > 100 {
		slug = strings.TrimSuffix(slug[:100], "-")
	}
	return slug
}

// cloneDestination resolves the workspace a clone goes to and checks that
// the caller may create there. Cloning into the source's own workspace is
// rejected with 403 and sameMessage.
func (s *Server) cloneDestination(ctx *fasthttp.RequestCtx, owner, sourceWS, sameMessage string) (state.Workspace, *apierr.Error) {
	ws, e := s.workspaceFor(ctx, "POST /api/projects", owner)
	if e != nil {
		return state.Workspace{}, e
	}
	if ws.ID == sourceWS {
		return state.Workspace{}, apierr.New(fasthttp.StatusForbidden, apierr.CodeForbidden, "%s", sameMessage)
	}
	return ws, nil
}

// conflictAsValidation turns a 409 into a 400, for routes whose documented
// statuses have no 409.
func conflictAsValidation(e *apierr.Error) *apierr.Error {
	if e != nil && e.Status == fasthttp.StatusConflict {
		return apierr.Validation("%s: choose another name", e.Message)
	}
	return e
}

func (s *Server) cloneProjectSeed(ctx *fasthttp.RequestCtx, p state.Project) {
	if dst, body, ok := s.cloneProject(ctx, p); ok {
		body["projectId"] = dst.ID
		writeJSON(ctx, fasthttp.StatusCreated, body)
	}
}

func (s *Server) cloneProjectContract(ctx *fasthttp.RequestCtx, p state.Project) {
	if _, body, ok := s.cloneProject(ctx, p); ok {
		writeJSON(ctx, fasthttp.StatusCreated, body)
	}
}

// cloneProject copies a project and its live models into another
// workspace. Model files are shared by hash, so nothing is copied in the
// blob store. NOTE: the copy takes one Raft entry per record, so a failure
// part way leaves a partial copy that the caller can delete.
func (s *Server) cloneProject(ctx *fasthttp.RequestCtx, p state.Project) (state.Project, map[string]any, bool) {
	var req projectRequest
	if e := readJSON(ctx, &req, true); e != nil {
		apierr.Write(ctx, e)
		return state.Project{}, nil, false
	}
	ws, e := s.cloneDestination(ctx, req.Owner, p.WorkspaceID, "You cannot clone a project to the same workspace.")
	if e != nil {
		apierr.Write(ctx, e)
		return state.Project{}, nil, false
	}
	cmd := &state.CreateProject{ProjectID: ids.New(), WorkspaceID: ws.ID, Slug: p.Slug, Name: p.Name, Description: p.Description, CreatedAt: s.now()}
	if slug := req.Project + req.Slug; slug != "" {
		cmd.Slug = slug
	}
	if req.Name != nil {
		cmd.Name = *req.Name
	}
	if req.Description != nil {
		cmd.Description = *req.Description
	}
	v, e := s.apply(cmd)
	if e != nil {
		apierr.Write(ctx, conflictAsValidation(e))
		return state.Project{}, nil, false
	}
	dst := v.(state.Project)
	n := 0
	for _, m := range s.liveModels(p.ID) {
		if _, e := s.copyModel(m, dst.ID, m.Slug, m.Name); e != nil {
			apierr.Write(ctx, e)
			return state.Project{}, nil, false
		}
		n++
	}
	s.record(ctx, ws.ID, "cloned", "project", dst.ID, "Cloned project "+p.Slug+" into "+ws.Slug+"/"+dst.Slug)
	return dst, map[string]any{"id": dst.ID, "owner": ws.Slug, "project": dst.Slug, "name": dst.Name, "modelCount": n, "region": region}, true
}

// copyModel records a copy of m in projectID and makes it predictable when
// the source is loaded.
func (s *Server) copyModel(m state.Model, projectID, slug, name string) (state.Model, *apierr.Error) {
	v, e := s.apply(&state.CreateModel{
		ModelID: ids.New(), ProjectID: projectID, Slug: slug, Name: name, Task: m.Task,
		Format: m.Format, FileSHA256: m.FileSHA256, FileSize: m.FileSize, Status: m.Status,
		Metadata: m.Metadata, CreatedAt: s.now(),
	})
	if e != nil {
		return state.Model{}, conflictAsValidation(e)
	}
	c := v.(state.Model)
	if loaded := s.loaded(m.ID); loaded != nil {
		s.AddModel(c.ID, loaded)
	}
	return c, nil
}

// modelCloneRequest is the body of model clone on both route families:
// the destination as owner and project slug, or as a project ID.
type modelCloneRequest struct {
	Owner     string  `json:"owner"`
	Project   string  `json:"project"`
	ProjectID string  `json:"projectId"`
	Model     string  `json:"model"`
	Name      *string `json:"name"`
}

func (s *Server) cloneModel(ctx *fasthttp.RequestCtx, m state.Model) {
	var req modelCloneRequest
	if e := readJSON(ctx, &req, false); e != nil {
		apierr.Write(ctx, e)
		return
	}
	dst, e := s.cloneTargetProject(ctx, req)
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	if dst.WorkspaceID == m.WorkspaceID {
		apierr.Write(ctx, apierr.New(fasthttp.StatusForbidden, apierr.CodeForbidden, "You cannot clone a model to the same workspace."))
		return
	}
	slug, name := m.Slug, m.Name
	if req.Model != "" {
		slug = req.Model
	}
	if req.Name != nil {
		name = *req.Name
	}
	c, e := s.copyModel(m, dst.ID, slug, name)
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	ws, _ := s.fsm.WorkspaceByID(dst.WorkspaceID)
	s.record(ctx, ws.ID, "cloned", "model", c.ID, "Cloned model "+m.Slug+" into "+ws.Slug+"/"+dst.Slug+"/"+c.Slug)
	writeJSON(ctx, fasthttp.StatusCreated, map[string]any{
		"id": c.ID, "owner": ws.Slug, "project": dst.Slug, "model": c.Slug, "name": c.Name, "region": region,
	})
}

// cloneTargetProject finds the live destination project of a model clone
// and checks that the caller may create models in it.
func (s *Server) cloneTargetProject(ctx *fasthttp.RequestCtx, req modelCloneRequest) (state.Project, *apierr.Error) {
	if req.ProjectID != "" {
		notFound := apierr.NotFound("destination project %s not found", req.ProjectID)
		p, ok := s.fsm.ProjectByID(req.ProjectID)
		if !ok || p.DeletedAt != nil {
			return state.Project{}, notFound
		}
		return p, s.authorize(ctx, "POST /api/models", p.WorkspaceID, notFound)
	}
	if req.Project == "" {
		return state.Project{}, apierr.Validation("destination project is missing: set project (with owner) or projectId")
	}
	ws, e := s.workspaceFor(ctx, "POST /api/models", req.Owner)
	if e != nil {
		return state.Project{}, e
	}
	p, ok := s.fsm.ProjectBySlug(ws.ID, req.Project)
	if !ok {
		return state.Project{}, apierr.NotFound("destination project %s/%s not found", ws.Slug, req.Project)
	}
	return p, nil
}
