package fleet

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/yoloplane/yoloplane/controlplane/state"
	"github.com/yoloplane/yoloplane/shared/wire"
)

// publisher holds the last FleetState built from the state machine. Its
// version is the Raft index of the entry that last changed what nodes see,
// so it is the same on every voter and a node may switch voters.
type publisher struct {
	mu      sync.Mutex
	index   uint64 // applied index the state was built at
	body    []byte // JSON of the state with version 0, to detect changes
	state   wire.FleetState
	changed chan struct{} // closed and replaced on every change
	// revisions maps deployment ID to the revision it had and the version
	// that first published that revision.
	revisions map[string]revisionSeen
}

type revisionSeen struct {
	revision int64
	version  uint64
}

func (p *publisher) init() {
	p.changed = make(chan struct{})
	p.revisions = map[string]revisionSeen{}
}

// refresh rebuilds the fleet state when the state machine moved on and
// wakes the watchers when what nodes see changed.
func (s *Service) refresh() {
	index := s.fsm.AppliedIndex()
	p := &s.pub
	p.mu.Lock()
	defer p.mu.Unlock()
	if index == p.index && p.body != nil {
		return
	}
	p.index = index
	st := BuildState(s.fsm)
	body, err := json.Marshal(st)
	if err != nil {
		s.log.Error("BUG: encode fleet state failed", "error", err)
		return
	}
	if bytes.Equal(body, p.body) {
		return
	}
	st.Version = index
	p.body, p.state = body, st
	seen := make(map[string]revisionSeen, len(st.Deployments))
	for _, d := range s.fsm.Deployments("") {
		r, ok := p.revisions[d.ID]
		if !ok || r.revision != d.Revision {
			r = revisionSeen{revision: d.Revision, version: index}
		}
		seen[d.ID] = r
	}
	p.revisions = seen
	close(p.changed)
	p.changed = make(chan struct{})
}

// revisionVersion returns the first fleet version that published revision
// of a deployment, or the current version when it is not published yet.
func (p *publisher) revisionVersion(id string, revision int64) uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if r, ok := p.revisions[id]; ok && r.revision == revision {
		return r.version
	}
	return p.state.Version + 1
}

// Current returns the latest published fleet state.
func (s *Service) Current() wire.FleetState {
	s.refresh()
	s.pub.mu.Lock()
	defer s.pub.mu.Unlock()
	return s.pub.state
}

// Wait returns the fleet state once its version is above since, or false
// when ctx ends first.
func (s *Service) Wait(ctx context.Context, since uint64) (wire.FleetState, bool) {
	for {
		s.refresh()
		s.pub.mu.Lock()
		st, ch := s.pub.state, s.pub.changed
		s.pub.mu.Unlock()
		if st.Version > since {
			return st, true
		}
		select {
		case <-ctx.Done():
			return wire.FleetState{}, false
		case <-ch:
		case <-time.After(100 * time.Millisecond):
			// Run may not be running, as in tests; poll the state machine.
		}
	}
}

// BuildState returns what data-plane nodes see of the state machine, with
// Version 0: every deployment and every unrevoked API key.
func BuildState(fsm *state.FSM) wire.FleetState {
	st := wire.FleetState{Deployments: []wire.Deployment{}, Keys: []wire.Key{}}
	for _, d := range fsm.Deployments("") {
		st.Deployments = append(st.Deployments, wireDeployment(fsm, d))
	}
	for _, k := range fsm.FleetKeys() {
		st.Keys = append(st.Keys, wire.Key{
			Hash: k.Key.Hash, KeyID: k.Key.ID, UserID: k.Key.UserID,
			Workspaces: k.Workspaces, Plan: string(k.Plan),
		})
	}
	return st
}

func wireDeployment(fsm *state.FSM, d state.Deployment) wire.Deployment {
	w := wire.Deployment{
		ID: d.ID, WorkspaceID: d.WorkspaceID, Name: d.Slug, Region: d.Region,
		Desired: d.Desired, Model: modelRef(fsm, d.Model), Nodes: d.Nodes,
	}
	if w.Nodes == nil {
		w.Nodes = []string{}
	}
	if ws, ok := fsm.WorkspaceByID(d.WorkspaceID); ok {
		w.Owner = ws.Slug
	}
	if d.Previous != nil {
		ref := modelRef(fsm, *d.Previous)
		w.Previous = &ref
	}
	return w
}

func modelRef(fsm *state.FSM, m state.DeploymentModel) wire.ModelRef {
	ref := wire.ModelRef{ModelID: m.ModelID, SHA256: m.SHA256, Size: m.Size}
	if rec, ok := fsm.ModelByID(m.ModelID); ok {
		ref.Name = rec.Name
	}
	return ref
}
