package state

import (
	"fmt"
	"strings"
	"time"
)

// Event is one entry of a workspace's activity feed: who changed which
// resource, and how.
type Event struct {
	ID           string     `json:"id"`
	WorkspaceID  string     `json:"workspaceId"`
	UserID       string     `json:"userId"`
	Action       string     `json:"action"`       // created, updated, deleted, restored, ...
	ResourceType string     `json:"resourceType"` // project, model, apiKey, ...
	ResourceID   string     `json:"resourceId"`
	Message      string     `json:"message"`
	CreatedAt    time.Time  `json:"createdAt"`
	SeenAt       *time.Time `json:"seenAt,omitempty"`
	ArchivedAt   *time.Time `json:"archivedAt,omitempty"`
}

func (e Event) clone() Event {
	e.SeenAt = cloneTime(e.SeenAt)
	e.ArchivedAt = cloneTime(e.ArchivedAt)
	return e
}

// maxEventMessageLen bounds an event message in bytes. Messages are built
// by the server from names, which are at most 100 bytes each.
const maxEventMessageLen = 1000

func (e *Event) validate() error {
	if err := validateID("event ID", e.ID); err != nil {
		return err
	}
	if err := validateID("workspace ID", e.WorkspaceID); err != nil {
		return err
	}
	if err := validateID("user ID", e.UserID); err != nil {
		return err
	}
	if err := validateText("event action", e.Action, maxNameLen, true); err != nil {
		return err
	}
	if err := validateText("event resource type", e.ResourceType, maxNameLen, true); err != nil {
		return err
	}
	if err := validateText("event message", e.Message, maxEventMessageLen, true); err != nil {
		return err
	}
	return validateTime("event time", e.CreatedAt)
}

func (t *tables) applyRecordEvent(c *RecordEvent) (Event, error) {
	e := c.Event.clone()
	if err := e.validate(); err != nil {
		return Event{}, err
	}
	if _, ok := t.events[e.ID]; ok {
		return Event{}, fmt.Errorf("%w: event ID %q already exists", ErrConflict, e.ID)
	}
	if _, ok := t.workspaces[e.WorkspaceID]; !ok {
		return Event{}, fmt.Errorf("%w: workspace %q", ErrNotFound, e.WorkspaceID)
	}
	e.CreatedAt = e.CreatedAt.UTC()
	e.SeenAt, e.ArchivedAt = nil, nil
	t.putEvent(e)
	return e.clone(), nil
}

// applyMarkEventsSeen returns the number of events that changed.
func (t *tables) applyMarkEventsSeen(c *MarkEventsSeen) (int, error) {
	return t.stampEvents(c.WorkspaceID, c.EventIDs, c.At, func(e *Event) **time.Time { return &e.SeenAt })
}

// applyArchiveEvents returns the number of events that changed.
func (t *tables) applyArchiveEvents(c *ArchiveEvents) (int, error) {
	return t.stampEvents(c.WorkspaceID, c.EventIDs, c.At, func(e *Event) **time.Time { return &e.ArchivedAt })
}

// stampEvents sets the field that field selects to at on the listed events
// of a workspace, or on all of them when ids is empty, leaving events that
// already carry a time unchanged.
func (t *tables) stampEvents(workspaceID string, ids []string, at time.Time, field func(*Event) **time.Time) (int, error) {
	if err := validateID("workspace ID", workspaceID); err != nil {
		return 0, err
	}
	for i, id := range ids {
		if err := validateID(fmt.Sprintf("eventIds[%d]", i), id); err != nil {
			return 0, err
		}
	}
	if err := validateTime("time", at); err != nil {
		return 0, err
	}
	if len(ids) == 0 {
		ids = t.eventsIn(workspaceID)
	}
	n := 0
	for _, id := range ids {
		e, ok := t.events[id]
		if !ok || e.WorkspaceID != workspaceID || *field(&e) != nil {
			continue
		}
		e = e.clone()
		stamp := at.UTC()
		*field(&e) = &stamp
		t.putEvent(e)
		n++
	}
	return n, nil
}

// EventFilter selects events for ListEvents. Zero fields match anything,
// except Archived: archived events are listed only when it is set.
type EventFilter struct {
	Start, End time.Time // inclusive bounds on CreatedAt
	Search     string    // case-insensitive substring of the message
	Archived   bool
}

func (f EventFilter) matches(e Event) bool {
	if (e.ArchivedAt != nil) != f.Archived {
		return false
	}
	if !f.Start.IsZero() && e.CreatedAt.Before(f.Start) || !f.End.IsZero() && e.CreatedAt.After(f.End) {
		return false
	}
	return f.Search == "" || strings.Contains(strings.ToLower(e.Message), strings.ToLower(f.Search))
}

// ListEvents returns events of a workspace that match filter, oldest first,
// like ListProjects.
func (f *FSM) ListEvents(workspaceID string, filter EventFilter, cursor string, limit int) ([]Event, string, error) {
	after, err := parseListArgs(cursor, limit)
	if err != nil {
		return nil, "", err
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	x, ok := f.t.eventsOfWS[workspaceID]
	if !ok {
		return nil, "", nil
	}
	return page(x, after, limit, func(id string) (Event, bool) {
		e := f.t.events[id]
		return e.clone(), filter.matches(e)
	})
}
