package api

import (
	"context"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/controlplane/state"
	"github.com/yoloplane/yoloplane/shared/apierr"
)

// TrashRetention is how long trashed items stay restorable before the purge
// removes them.
const TrashRetention = 30 * 24 * time.Hour

// Trash list bounds from the documented API: 50 per page by default, 200
// at most.
const (
	defaultTrashLimit = 50
	maxTrashLimit     = 200
)

type trashItem struct {
	ID            string `json:"_id"`
	Type          string `json:"type"`
	Name          string `json:"name"`
	Slug          string `json:"slug"`
	TrashedAt     string `json:"trashedAt"`
	DaysRemaining int    `json:"daysRemaining"`
	CascadedCount *int   `json:"cascadedCount,omitempty"`
	SizeBytes     *int64 `json:"sizeBytes,omitempty"`
}

// trashItems returns the trashed projects and models of a workspace, oldest
// first. Models trashed together with their project are listed under it.
func (s *Server) trashItems(ws string, kind string) ([]trashItem, int64, int, int) {
	var items []trashItem
	var size int64
	var projects, models int
	now := s.now()
	days := func(at time.Time) int { return max(0, int(at.Add(TrashRetention).Sub(now).Hours()/24)) }
	deleted, _ := s.allModels(state.ModelFilter{WorkspaceID: ws, Deleted: true})
	cascaded := map[string]int{}
	for _, m := range deleted {
		p, _ := s.fsm.ProjectByID(m.ProjectID)
		if p.DeletedAt != nil && p.DeletedAt.Equal(*m.DeletedAt) {
			cascaded[p.ID]++
			continue
		}
		models++
		size += m.FileSize
		if kind == "all" || kind == "model" {
			sz := m.FileSize
			items = append(items, trashItem{ID: m.ID, Type: "model", Name: m.Name, Slug: m.Slug,
				TrashedAt: formatTime(*m.DeletedAt), DaysRemaining: days(*m.DeletedAt), SizeBytes: &sz})
		}
	}
	for _, p := range s.deletedProjects(ws) {
		projects++
		if kind == "all" || kind == "project" {
			n := cascaded[p.ID]
			items = append(items, trashItem{ID: p.ID, Type: "project", Name: p.Name, Slug: p.Slug,
				TrashedAt: formatTime(*p.DeletedAt), DaysRemaining: days(*p.DeletedAt), CascadedCount: &n})
		}
	}
	return items, size, projects, models
}

func (s *Server) deletedProjects(ws string) []state.Project {
	var out []state.Project
	cursor := ""
	for {
		page, next, err := s.fsm.ListDeletedProjects(ws, cursor, state.MaxListLimit)
		if err != nil {
			s.log.Error("list trashed projects failed", "workspace_id", ws, "error", err)
			return out
		}
		out = append(out, page...)
		if next == "" {
			return out
		}
		cursor = next
	}
}

func (s *Server) handleListTrash(ctx *fasthttp.RequestCtx) {
	args := ctx.QueryArgs()
	ws, e := s.workspaceFor(ctx, "GET /api/trash", string(args.Peek("owner")))
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	kind := string(args.Peek("type"))
	switch kind {
	case "":
		kind = "all"
	case "all", "project", "model", "dataset":
	default:
		apierr.Write(ctx, apierr.Validation("type must be all, project, dataset or model, got %q", kind))
		return
	}
	limit, e := parseLimit(ctx, defaultTrashLimit, maxTrashLimit)
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	page := 1
	if v := args.GetUintOrZero("page"); v > 0 {
		page = v
	} else if len(args.Peek("page")) > 0 {
		apierr.Write(ctx, apierr.Validation("page must be a whole number of at least 1, got %q", args.Peek("page")))
		return
	}
	items, size, projects, models := s.trashItems(ws.ID, kind)
	total := len(items)
	start := min(total, (page-1)*limit)
	end := min(total, start+limit)
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{
		"items": append([]trashItem{}, items[start:end]...), "total": total, "page": page, "limit": limit,
		"totalPages": (total + limit - 1) / limit, "region": region,
		"summary": map[string]any{
			"totalItems": projects + models, "totalSizeBytes": size,
			"byType": map[string]any{
				"projects": map[string]any{"count": projects},
				"datasets": map[string]any{"count": 0, "sizeBytes": 0},
				"models":   map[string]any{"count": models, "sizeBytes": size},
				"exports":  map[string]any{"count": 0, "sizeBytes": 0},
			},
		},
	})
}

// trashRequest names one trashed item, or every item with All.
type trashRequest struct {
	ID    string `json:"id"`
	Type  string `json:"type"`
	All   bool   `json:"all"`
	Owner string `json:"owner"`
}

// trashedItem finds a trashed project or model and authorizes r on it.
func (s *Server) trashedItem(ctx *fasthttp.RequestCtx, r route, req trashRequest) (workspaceID string, e *apierr.Error) {
	notFound := apierr.NotFound("%s %s is not in the trash", req.Type, req.ID)
	switch req.Type {
	case "project":
		p, ok := s.fsm.ProjectByID(req.ID)
		if !ok || p.DeletedAt == nil {
			return "", notFound
		}
		workspaceID = p.WorkspaceID
	case "model":
		m, ok := s.fsm.ModelByID(req.ID)
		if !ok || m.DeletedAt == nil {
			return "", notFound
		}
		workspaceID = m.WorkspaceID
	case "dataset":
		return "", notFound
	default:
		return "", apierr.Validation("type must be project, dataset or model, got %q", req.Type)
	}
	return workspaceID, s.authorize(ctx, r, workspaceID, notFound)
}

func (s *Server) handleRestoreTrash(ctx *fasthttp.RequestCtx) {
	var req trashRequest
	if e := readJSON(ctx, &req, false); e != nil {
		apierr.Write(ctx, e)
		return
	}
	ws, e := s.trashedItem(ctx, "POST /api/trash", req)
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	var cmd state.Command = &state.RestoreModel{ModelID: req.ID, RestoredAt: s.now()}
	if req.Type == "project" {
		cmd = &state.RestoreProject{ProjectID: req.ID, RestoredAt: s.now()}
	}
	v, e := s.applyRecorded(ctx, cmd, ws, "restored", req.Type, req.ID, "Restored "+req.Type+" "+req.ID+" from the trash")
	if e != nil {
		apierr.Write(ctx, conflictAsValidation(e))
		return
	}
	body := map[string]any{"success": true}
	if restored, ok := v.(state.RestoredProject); ok {
		body["restoredModels"] = restored.Models
	}
	writeJSON(ctx, fasthttp.StatusOK, body)
}

// handleDeleteTrash permanently deletes one item, or all with {"all":true}.
func (s *Server) handleDeleteTrash(ctx *fasthttp.RequestCtx) {
	var req trashRequest
	if e := readJSON(ctx, &req, false); e != nil {
		apierr.Write(ctx, e)
		return
	}
	if req.All {
		s.emptyTrash(ctx, "DELETE /api/trash", req.Owner)
		return
	}
	ws, e := s.trashedItem(ctx, "DELETE /api/trash", req)
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	message := "Permanently deleted " + req.Type + " " + req.ID
	var v any
	if req.Type == "project" {
		models, _ := s.allModels(state.ModelFilter{ProjectID: req.ID, Deleted: true})
		cmd := &state.DeleteProject{ProjectID: req.ID, DeletedAt: s.now(), Permanent: true}
		v, e = s.applyRecorded(ctx, cmd, ws, "purged", req.Type, req.ID, message)
		if e == nil {
			s.releaseModels(models)
		}
	} else {
		cmd := &state.DeleteModel{ModelID: req.ID, DeletedAt: s.now(), Permanent: true}
		v, e = s.applyRecorded(ctx, cmd, ws, "purged", req.Type, req.ID, message)
		if e == nil {
			s.releaseModels([]state.Model{v.(state.Model)})
		}
	}
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"success": true, "deletedCount": 1})
}

func (s *Server) handleEmptyTrash(ctx *fasthttp.RequestCtx) {
	s.emptyTrash(ctx, "DELETE /api/trash/empty", string(ctx.QueryArgs().Peek("owner")))
}

func (s *Server) emptyTrash(ctx *fasthttp.RequestCtx, r route, owner string) {
	ws, e := s.workspaceFor(ctx, r, owner)
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	// Everything trashed up to now: the cutoff lies just after the present.
	res, e := s.purge(ws.ID, s.now().Add(time.Millisecond))
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	s.record(ctx, ws.ID, "purged", "trash", ws.ID, "Emptied the trash")
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"success": true, "deletedCount": len(res.Projects) + len(res.Models)})
}

// purge removes trashed records of a workspace (all when empty) trashed
// before the cutoff, then the blobs that no remaining record references.
func (s *Server) purge(workspaceID string, before time.Time) (state.PurgeResult, *apierr.Error) {
	v, e := s.apply(&state.PurgeTrash{WorkspaceID: workspaceID, Before: before})
	if e != nil {
		return state.PurgeResult{}, e
	}
	res := v.(state.PurgeResult)
	s.releaseModels(res.Models)
	return res, nil
}

// releaseModels unloads permanently deleted models and deletes their files
// when no other record uses them.
func (s *Server) releaseModels(models []state.Model) {
	for _, m := range models {
		s.removeLoaded(m.ID)
		s.dropUnreferenced(m.FileSHA256)
	}
}

// RunPurge deletes trash older than TrashRetention every interval until ctx
// ends. The clock is read here, outside the state machine; the cutoff
// travels in the command.
func (s *Server) RunPurge(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if res, e := s.purge("", s.now().Add(-TrashRetention)); e != nil {
			s.log.Error("purge trash failed", "error", e.Message)
		} else if n := len(res.Projects) + len(res.Models); n > 0 {
			s.log.Info("trash purged", "projects", len(res.Projects), "models", len(res.Models))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
