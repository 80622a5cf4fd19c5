package api

import (
	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/controlplane/state"
	"github.com/yoloplane/yoloplane/shared/apierr"
)

// handleListCompletedModels lists the live models that can serve predicts
// and deployments, which here means status ready: a .pt upload still needs
// an export before it counts. With owner it lists that workspace, without it
// every workspace the caller is a member of. The body has the shape of the
// model list.
func (s *Server) handleListCompletedModels(ctx *fasthttp.RequestCtx) {
	limit, e := parseLimit(ctx, defaultListLimit, maxListLimit)
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	workspaces := s.fsm.WorkspacesOfKey(principal(ctx).Key)
	if owner := string(ctx.QueryArgs().Peek("owner")); owner != "" {
		ws, e := s.workspaceFor(ctx, "GET /api/models/completed", owner)
		if e != nil {
			apierr.Write(ctx, e)
			return
		}
		workspaces = []state.Workspace{ws}
	}
	views := []modelView{}
	total := 0
	for _, ws := range workspaces {
		models, err := s.allModels(state.ModelFilter{WorkspaceID: ws.ID, Task: string(ctx.QueryArgs().Peek("task"))})
		if err != nil {
			s.log.Error("list completed models failed", "workspace_id", ws.ID, "error", err)
			apierr.Write(ctx, apierr.Internal)
			return
		}
		for _, m := range models {
			if m.Status != state.ModelStatusReady {
				continue
			}
			total++
			if len(views) < limit {
				views = append(views, s.view(m))
			}
		}
	}
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"models": views, "total": total})
}
