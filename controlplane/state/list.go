package state

import (
	"encoding/base64"
	"fmt"
	"strings"
	"time"
)

// MaxListLimit is the largest page a list method returns. The REST API
// enforces its own, smaller documented bounds before calling in.
const MaxListLimit = 1000

// ModelFilter selects models for ListModels. Empty fields match anything.
type ModelFilter struct {
	WorkspaceID string
	ProjectID   string
	Task        string
	// Deleted lists models in the trash instead of live ones.
	Deleted bool
}

// ListProjects returns up to limit live projects of a workspace in
// (CreatedAt, ID) order, starting after cursor ("" for the first page), and
// the cursor of the next page, which is "" after the last page. Because a
// cursor names the last item returned rather than a position, items created
// or deleted between pages cause no repeats or skips.
func (f *FSM) ListProjects(workspaceID, cursor string, limit int) ([]Project, string, error) {
	return f.listProjects(workspaceID, false, cursor, limit)
}

// ListDeletedProjects lists the projects of a workspace that are in the
// trash, like ListProjects.
func (f *FSM) ListDeletedProjects(workspaceID, cursor string, limit int) ([]Project, string, error) {
	return f.listProjects(workspaceID, true, cursor, limit)
}

func (f *FSM) listProjects(workspaceID string, deleted bool, cursor string, limit int) ([]Project, string, error) {
	after, err := parseListArgs(cursor, limit)
	if err != nil {
		return nil, "", err
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	x, ok := f.t.projectOrder[workspaceID]
	if !ok {
		return nil, "", nil
	}
	return page(x, after, limit, func(id string) (Project, bool) {
		p := f.t.projects[id]
		return p.clone(), (p.DeletedAt != nil) == deleted
	})
}

// ListModels returns models that match filter, like ListProjects.
func (f *FSM) ListModels(filter ModelFilter, cursor string, limit int) ([]Model, string, error) {
	after, err := parseListArgs(cursor, limit)
	if err != nil {
		return nil, "", err
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	var x orderIndex
	var ok bool
	switch {
	case filter.ProjectID != "":
		x, ok = f.t.modelsOfProject[filter.ProjectID]
	case filter.WorkspaceID != "":
		x, ok = f.t.modelsOfWS[filter.WorkspaceID]
	default:
		x, ok = f.t.modelOrder, true
	}
	if !ok {
		return nil, "", nil
	}
	return page(x, after, limit, func(id string) (Model, bool) {
		m := f.t.models[id]
		return m.clone(), filter.matches(m)
	})
}

func (filter ModelFilter) matches(m Model) bool {
	return (filter.WorkspaceID == "" || m.WorkspaceID == filter.WorkspaceID) &&
		(filter.ProjectID == "" || m.ProjectID == filter.ProjectID) &&
		(filter.Task == "" || m.Task == filter.Task) &&
		(m.DeletedAt != nil) == filter.Deleted
}

// page collects up to limit records after the key after that get accepts,
// and returns the cursor of the next page when one more record exists.
func page[T any](x orderIndex, after *orderKey, limit int, get func(id string) (T, bool)) ([]T, string, error) {
	var out []T
	var last orderKey
	more := false
	x.ascendAfter(after, func(k orderKey) bool {
		v, ok := get(k.id)
		if !ok {
			return true
		}
		if len(out) == limit {
			more = true
			return false
		}
		out = append(out, v)
		last = k
		return true
	})
	if !more {
		return out, "", nil
	}
	return out, encodeCursor(last), nil
}

func parseListArgs(cursor string, limit int) (*orderKey, error) {
	if limit < 1 || limit > MaxListLimit {
		return nil, fmt.Errorf("%w: limit %d must be between 1 and %d", ErrInvalid, limit, MaxListLimit)
	}
	if cursor == "" {
		return nil, nil
	}
	k, err := decodeCursor(cursor)
	if err != nil {
		return nil, err
	}
	return &k, nil
}

// encodeCursor returns the opaque form of k: base64url of
// "<RFC 3339 time> <id>".
func encodeCursor(k orderKey) string {
	s := k.created.UTC().Format(time.RFC3339Nano) + " " + k.id
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

func decodeCursor(cursor string) (orderKey, error) {
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return orderKey{}, fmt.Errorf("%w: cursor %q is not one this server returned", ErrInvalid, cursor)
	}
	created, id, found := strings.Cut(string(raw), " ")
	t, err := time.Parse(time.RFC3339Nano, created)
	if !found || err != nil || validateID("cursor ID", id) != nil {
		return orderKey{}, fmt.Errorf("%w: cursor %q is not one this server returned", ErrInvalid, cursor)
	}
	return orderKey{created: t.UTC(), id: id}, nil
}
