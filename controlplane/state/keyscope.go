package state

// A key created in a user's personal workspace acts for the user in every
// workspace the user is a member of. A key created for a team workspace
// acts in that team only, so handing a team key to a script or a colleague
// does not expose the creator's personal projects.

// keyReachesLocked reports whether k may act in workspaceID. The caller
// holds f.mu.
func (f *FSM) keyReachesLocked(k APIKey, workspaceID string) bool {
	if _, member := f.t.memberOf[k.UserID][workspaceID]; !member {
		return false
	}
	if k.WorkspaceID == workspaceID {
		return true
	}
	home, ok := f.t.workspaces[k.WorkspaceID]
	return ok && home.Personal
}

// KeyReaches reports whether the key k may act in the workspace: its user
// is a member there, and the key was created either in that workspace or
// in the user's personal workspace.
func (f *FSM) KeyReaches(k APIKey, workspaceID string) bool {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.keyReachesLocked(k, workspaceID)
}

// WorkspacesOfKey returns the workspaces the key k may act in, in the
// order of WorkspacesOf.
func (f *FSM) WorkspacesOfKey(k APIKey) []Workspace {
	var out []Workspace
	for _, ws := range f.WorkspacesOf(k.UserID) {
		if f.KeyReaches(k, ws.ID) {
			out = append(out, ws)
		}
	}
	return out
}
