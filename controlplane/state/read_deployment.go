package state

import (
	"cmp"
	"slices"
)

// DeploymentByID returns the deployment with the given ID.
func (f *FSM) DeploymentByID(id string) (Deployment, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	d, ok := f.t.deployments.ByID[id]
	return d.clone(), ok
}

// DeploymentBySlug returns the deployment named slug in a workspace.
func (f *FSM) DeploymentBySlug(workspaceID, slug string) (Deployment, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	id, ok := f.t.deployments.BySlug[childKey(workspaceID, slug)]
	if !ok {
		return Deployment{}, false
	}
	return f.t.deployments.ByID[id].clone(), true
}

// Deployments returns the deployments of a workspace, or of every
// workspace when workspaceID is empty, newest first and then by ID.
// NOTE: it scans every deployment, which is fine for thousands.
func (f *FSM) Deployments(workspaceID string) []Deployment {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var out []Deployment
	for _, d := range f.t.deployments.ByID {
		if workspaceID == "" || d.WorkspaceID == workspaceID {
			out = append(out, d.clone())
		}
	}
	slices.SortFunc(out, func(a, b Deployment) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// FleetKey is an unrevoked API key with what data-plane nodes need to
// authorize predicts: the workspaces its user is a member of and the plan
// of the key's workspace.
type FleetKey struct {
	Key        APIKey
	Workspaces []string
	Plan       Plan
}

// FleetKeys returns every unrevoked key, sorted by ID, with the sorted IDs
// of the workspaces its user is a member of.
func (f *FSM) FleetKeys() []FleetKey {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]FleetKey, 0, len(f.t.keys))
	for _, k := range f.t.keys {
		if k.Revoked {
			continue
		}
		var ws []string
		for id := range f.t.memberOf[k.UserID] {
			if f.keyReachesLocked(k, id) {
				ws = append(ws, id)
			}
		}
		slices.Sort(ws)
		out = append(out, FleetKey{Key: k.clone(), Workspaces: ws, Plan: f.t.workspaces[k.WorkspaceID].Plan})
	}
	slices.SortFunc(out, func(a, b FleetKey) int { return cmp.Compare(a.Key.ID, b.Key.ID) })
	return out
}
