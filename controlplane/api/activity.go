package api

import (
	"time"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/controlplane/state"
	"github.com/yoloplane/yoloplane/shared/apierr"
)

type eventView struct {
	ID           string `json:"id"`
	Action       string `json:"action"`
	ResourceType string `json:"resourceType"`
	ResourceID   string `json:"resourceId"`
	Message      string `json:"message"`
	UserID       string `json:"userId"`
	CreatedAt    string `json:"createdAt"`
	Seen         bool   `json:"seen"`
	Archived     bool   `json:"archived"`
}

// parseDate reads an ISO date (2025-03-04) or an RFC 3339 time. A bare
// end date covers that whole day.
func parseDate(v string, endOfDay bool) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, true
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, false
	}
	if endOfDay {
		t = t.Add(24*time.Hour - time.Nanosecond)
	}
	return t, true
}

func (s *Server) handleListActivity(ctx *fasthttp.RequestCtx) {
	args := ctx.QueryArgs()
	ws, e := s.workspaceFor(ctx, "GET /api/activity", string(args.Peek("owner")))
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	filter := state.EventFilter{Search: string(args.Peek("search")), Archived: string(args.Peek("archived")) == "true"}
	for _, d := range []struct {
		name string
		dst  *time.Time
		end  bool
	}{{"startDate", &filter.Start, false}, {"endDate", &filter.End, true}} {
		if v := string(args.Peek(d.name)); v != "" {
			t, ok := parseDate(v, d.end)
			if !ok {
				apierr.Write(ctx, apierr.Validation("%s %q must be a date like 2025-03-04 or an RFC 3339 time", d.name, v))
				return
			}
			*d.dst = t
		}
	}
	limit, e := parseLimit(ctx, defaultListLimit, maxListLimit)
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	events, next, err := s.fsm.ListEvents(ws.ID, filter, string(args.Peek("cursor")), limit)
	if err != nil {
		apierr.Write(ctx, apierr.Validation("%s", stateMessage(err)))
		return
	}
	views := make([]eventView, 0, len(events))
	for _, ev := range events {
		views = append(views, eventView{ID: ev.ID, Action: ev.Action, ResourceType: ev.ResourceType,
			ResourceID: ev.ResourceID, Message: ev.Message, UserID: ev.UserID, CreatedAt: formatTime(ev.CreatedAt),
			Seen: ev.SeenAt != nil, Archived: ev.ArchivedAt != nil})
	}
	body := map[string]any{"events": views}
	if next != "" {
		body["nextCursor"] = next
	}
	writeJSON(ctx, fasthttp.StatusOK, body)
}

// eventsRequest names events by ID; no IDs means every event.
type eventsRequest struct {
	EventIDs []string `json:"eventIds"`
	Owner    string   `json:"owner"`
}

func (s *Server) handleMarkSeen(ctx *fasthttp.RequestCtx) {
	s.stampEvents(ctx, "POST /api/activity/mark-seen", func(ws string, ids []string) state.Command {
		return &state.MarkEventsSeen{WorkspaceID: ws, EventIDs: ids, At: s.now()}
	})
}

func (s *Server) handleArchive(ctx *fasthttp.RequestCtx) {
	s.stampEvents(ctx, "POST /api/activity/archive", func(ws string, ids []string) state.Command {
		return &state.ArchiveEvents{WorkspaceID: ws, EventIDs: ids, At: s.now()}
	})
}

func (s *Server) stampEvents(ctx *fasthttp.RequestCtx, r route, cmd func(ws string, ids []string) state.Command) {
	var req eventsRequest
	if e := readJSON(ctx, &req, true); e != nil {
		apierr.Write(ctx, e)
		return
	}
	ws, e := s.workspaceFor(ctx, r, req.Owner)
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	v, e := s.apply(cmd(ws.ID, req.EventIDs))
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"success": true, "updated": v})
}
