package state

import (
	"cmp"
	"maps"
	"slices"
)

// UserByID returns the user with the given ID.
func (f *FSM) UserByID(id string) (User, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	u, ok := f.t.users[id]
	return u, ok
}

// UserByUsername returns the user with the given username.
func (f *FSM) UserByUsername(name string) (User, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	u, ok := f.t.users[f.t.userByName[name]]
	return u, ok
}

// UserByEmail returns the user registered with email, compared without
// regard to case.
func (f *FSM) UserByEmail(email string) (User, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	u, ok := f.t.users[f.t.userByEmail[normalizeEmail(email)]]
	return u, ok
}

// WorkspaceByID returns the workspace with the given ID.
func (f *FSM) WorkspaceByID(id string) (Workspace, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	w, ok := f.t.workspaces[id]
	return w, ok
}

// WorkspaceBySlug returns the workspace whose slug (the owner segment of
// owner routes) is slug.
func (f *FSM) WorkspaceBySlug(slug string) (Workspace, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	w, ok := f.t.workspaces[f.t.workspaceBySlug[slug]]
	return w, ok
}

// Member returns userID's membership in workspaceID.
func (f *FSM) Member(workspaceID, userID string) (Member, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	m, ok := f.t.members[workspaceID][userID]
	return m, ok
}

// MembersOf returns the members of a workspace in (CreatedAt, UserID) order.
func (f *FSM) MembersOf(workspaceID string) []Member {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]Member, 0, len(f.t.members[workspaceID]))
	for _, m := range f.t.members[workspaceID] {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b Member) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.UserID, b.UserID))
	})
	return out
}

// WorkspacesOf returns the workspaces userID is a member of in (CreatedAt,
// ID) order.
func (f *FSM) WorkspacesOf(userID string) []Workspace {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]Workspace, 0, len(f.t.memberOf[userID]))
	for id := range f.t.memberOf[userID] {
		out = append(out, f.t.workspaces[id])
	}
	slices.SortFunc(out, func(a, b Workspace) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// KeyByID returns the API key with the given ID.
func (f *FSM) KeyByID(id string) (APIKey, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	k, ok := f.t.keys[id]
	return k.clone(), ok
}

// KeyByHash returns the API key whose hash is hash, in constant time with
// respect to the number of keys. Revoked keys are returned too; the caller
// checks Revoked.
func (f *FSM) KeyByHash(hash string) (APIKey, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	id, ok := f.t.keyByHash[hash]
	if !ok {
		return APIKey{}, false
	}
	return f.t.keys[id].clone(), true
}

// KeysOf returns the API keys of a user, revoked ones included, in
// (CreatedAt, ID) order.
func (f *FSM) KeysOf(userID string) []APIKey {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]APIKey, 0, len(f.t.keysOfUser[userID]))
	for id := range f.t.keysOfUser[userID] {
		out = append(out, f.t.keys[id].clone())
	}
	slices.SortFunc(out, func(a, b APIKey) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// ProjectByID returns the project with the given ID, deleted or not.
func (f *FSM) ProjectByID(id string) (Project, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	p, ok := f.t.projects[id]
	return p.clone(), ok
}

// ProjectBySlug returns the live project with the given slug in a
// workspace.
func (f *FSM) ProjectBySlug(workspaceID, slug string) (Project, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	id, ok := f.t.projectBySlug[childKey(workspaceID, slug)]
	if !ok {
		return Project{}, false
	}
	return f.t.projects[id].clone(), true
}

// ModelByID returns the model with the given ID, deleted or not.
func (f *FSM) ModelByID(id string) (Model, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	m, ok := f.t.models[id]
	return m.clone(), ok
}

// ModelBySlug returns the live model with the given slug in a project.
func (f *FSM) ModelBySlug(projectID, slug string) (Model, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	id, ok := f.t.modelBySlug[childKey(projectID, slug)]
	if !ok {
		return Model{}, false
	}
	return f.t.models[id].clone(), true
}

// BlobReferenced reports whether any model record, live or trashed, has the
// file with the given hash, or any project icon or user avatar uses it.
// NOTE: it scans every model, icon and avatar, which is fine for
// the thousands of models of one deployment but not for millions.
func (f *FSM) BlobReferenced(hash string) bool {
	f.mu.RLock()
	defer f.mu.RUnlock()
	for _, m := range f.t.models {
		if m.FileSHA256 == hash {
			return true
		}
	}
	return f.t.account.iconReferences(hash)
}

// EventByID returns the activity event with the given ID.
func (f *FSM) EventByID(id string) (Event, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	e, ok := f.t.events[id]
	return e.clone(), ok
}

// ReferencedBlobs returns the hashes of every blob a record references:
// model files, including models in the trash, project icons and avatars.
func (f *FSM) ReferencedBlobs() []string {
	f.mu.RLock()
	defer f.mu.RUnlock()
	seen := map[string]bool{}
	for _, m := range f.t.models {
		if m.FileSHA256 != "" {
			seen[m.FileSHA256] = true
		}
	}
	for _, icon := range f.t.account.Icons {
		seen[icon.SHA256] = true
	}
	for _, avatar := range f.t.account.Avatars {
		seen[avatar.SHA256] = true
	}
	delete(seen, "")
	return slices.Sorted(maps.Keys(seen))
}
