package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/yoloplane/yoloplane/shared/wire"
)

// stateFile is the file in the data directory that holds the last applied
// fleet state.
const stateFile = "fleet-state.json"

// view is an immutable, indexed fleet state. The node swaps whole views
// atomically, so a request reads one consistent state.
type view struct {
	state      wire.FleetState
	receivedAt time.Time
	keys       map[string]*wire.Key        // by hash
	deploys    map[string]*wire.Deployment // by ID, every region
}

func newView(st wire.FleetState, receivedAt time.Time) *view {
	v := &view{
		state:      st,
		receivedAt: receivedAt,
		keys:       make(map[string]*wire.Key, len(st.Keys)),
		deploys:    make(map[string]*wire.Deployment, len(st.Deployments)),
	}
	for i := range st.Keys {
		v.keys[st.Keys[i].Hash] = &st.Keys[i]
	}
	for i := range st.Deployments {
		v.deploys[st.Deployments[i].ID] = &st.Deployments[i]
	}
	return v
}

// placed returns the deployment with the given ID when it is placed on
// nodeID.
func (v *view) placed(id, nodeID string) (*wire.Deployment, bool) {
	d, ok := v.deploys[id]
	if !ok || !slices.Contains(d.Nodes, nodeID) {
		return nil, false
	}
	return d, true
}

// persistedState is the file format of stateFile.
type persistedState struct {
	ReceivedAt time.Time       `json:"receivedAt"`
	State      wire.FleetState `json:"state"`
}

// saveState writes the state to dir atomically: a crash leaves either the
// old file or the new one, never a torn one.
func saveState(dir string, st wire.FleetState, receivedAt time.Time) error {
	b, err := json.Marshal(persistedState{ReceivedAt: receivedAt, State: st})
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, stateFile+".tmp-*")
	if err != nil {
		return fmt.Errorf("create fleet state file: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("write fleet state file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync fleet state file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close fleet state file: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, stateFile)); err != nil {
		return fmt.Errorf("replace fleet state file: %w", err)
	}
	return syncDir(dir)
}

// loadState reads the persisted state. It returns nil and no error when
// there is none.
func loadState(dir string) (*persistedState, error) {
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read fleet state file: %w", err)
	}
	var p persistedState
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("decode fleet state file %s: %w", filepath.Join(dir, stateFile), err)
	}
	return &p, nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
