package state

import (
	"context"
	"fmt"
	"sync"

	"github.com/hashicorp/raft"
)

// FSM is the state machine. It implements raft.FSM and raft.BatchingFSM.
// Create one with New.
type FSM struct {
	mu      sync.RWMutex
	t       *tables
	applied uint64 // index of the last log entry applied or restored
	// advanced is closed and replaced whenever applied grows, to wake
	// WaitApplied callers.
	advanced chan struct{}
	restore  RestoreStats
}

var _ raft.BatchingFSM = (*FSM)(nil)

// New returns an empty state machine.
func New() *FSM {
	return &FSM{t: newTables(), advanced: make(chan struct{})}
}

// Apply applies one committed log entry. It returns the command's result
// (see each apply function) or an error wrapping ErrNotFound, ErrConflict or
// ErrInvalid; raft hands either back through ApplyFuture.Response.
//
// Apply panics on a command type this version does not know. Skipping it
// would let this node's state silently diverge from nodes that applied it,
// so the node stops and the operator upgrades it.
func (f *FSM) Apply(l *raft.Log) any {
	f.mu.Lock()
	defer f.mu.Unlock()
	defer f.notifyLocked(f.applied)
	return f.applyLocked(l)
}

// ApplyBatch applies committed entries in order under one lock acquisition.
// Raft passes configuration entries too; their responses are nil.
func (f *FSM) ApplyBatch(logs []*raft.Log) []any {
	f.mu.Lock()
	defer f.mu.Unlock()
	defer f.notifyLocked(f.applied)
	out := make([]any, len(logs))
	for i, l := range logs {
		out[i] = f.applyLocked(l)
	}
	return out
}

// AppliedIndex returns the Raft index of the last entry applied to the
// state, including entries covered by a restored snapshot.
func (f *FSM) AppliedIndex() uint64 {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.applied
}

// WaitApplied blocks until the applied index reaches index or ctx ends, and
// returns ctx.Err() in the second case. Any goroutine may call it. Waiters
// wake once per applied batch, not once per entry.
func (f *FSM) WaitApplied(ctx context.Context, index uint64) error {
	for {
		f.mu.RLock()
		applied, advanced := f.applied, f.advanced
		f.mu.RUnlock()
		if applied >= index {
			return nil
		}
		select {
		case <-advanced:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// notifyLocked wakes WaitApplied callers when the applied index differs
// from previous. The caller holds f.mu for writing.
func (f *FSM) notifyLocked(previous uint64) {
	if f.applied == previous {
		return
	}
	close(f.advanced)
	f.advanced = make(chan struct{})
}

func (f *FSM) applyLocked(l *raft.Log) any {
	if l.Index > f.applied {
		f.applied = l.Index
	}
	if l.Type != raft.LogCommand {
		return nil
	}
	return f.applyCommand(l.Data)
}

// applyCommand decodes one entry and dispatches it to its apply function.
func (f *FSM) applyCommand(entry []byte) any {
	if len(entry) > 0 && newCommand(CommandType(entry[0])) == nil {
		panic(fmt.Sprintf("BUG: log entry has command type %d, which this version does not know: upgrade this node", entry[0]))
	}
	cmd, err := Decode(entry)
	if err != nil {
		return err
	}
	return f.dispatch(cmd)
}

func (f *FSM) dispatch(cmd Command) any {
	t := f.t
	switch c := cmd.(type) {
	case *CreateUser:
		return result(t.applyCreateUser(c))
	case *CreateAPIKey:
		return result(t.applyCreateAPIKey(c))
	case *RevokeAPIKey:
		return result(t.applyRevokeAPIKey(c))
	case *TouchAPIKeys:
		return result(t.applyTouchAPIKeys(c))
	case *CreateProject:
		return result(t.applyCreateProject(c))
	case *UpdateProject:
		return result(t.applyUpdateProject(c))
	case *DeleteProject:
		return result(t.applyDeleteProject(c))
	case *CreateModel:
		return result(t.applyCreateModel(c))
	case *UpdateModel:
		return result(t.applyUpdateModel(c))
	case *DeleteModel:
		return result(t.applyDeleteModel(c))
	case *SetNodeAddr, *RecordUsage:
		return t.dispatchCluster(cmd)
	case *WithEvent:
		return f.applyWithEvent(c)
	}
	if v, ok := t.dispatchV2(cmd); ok {
		return v
	}
	if v, ok := t.dispatchDeployment(cmd); ok {
		return v
	}
	if v, ok := t.dispatchAccount(cmd); ok {
		return v
	}
	panic(fmt.Sprintf("BUG: command type %d has a decoder but no apply function", cmd.CommandType()))
}

// result folds an apply function's (value, error) pair into the single
// value raft carries back to the proposer.
func result[T any](v T, err error) any {
	if err != nil {
		return err
	}
	return v
}

// dispatchV2 applies the command numbers from 11 on. It reports false for a
// command it does not handle.
func (t *tables) dispatchV2(cmd Command) (any, bool) {
	switch c := cmd.(type) {
	case *CreateWorkspace:
		return result(t.applyCreateWorkspace(c)), true
	case *AddMember:
		return result(t.applyAddMember(c)), true
	case *UpdateMember:
		return result(t.applyUpdateMember(c)), true
	case *RemoveMember:
		return result(t.applyRemoveMember(c)), true
	case *RestoreProject:
		return result(t.applyRestoreProject(c)), true
	case *RestoreModel:
		return result(t.applyRestoreModel(c)), true
	case *PurgeTrash:
		return result(t.applyPurgeTrash(c)), true
	case *RecordEvent:
		return result(t.applyRecordEvent(c)), true
	case *MarkEventsSeen:
		return result(t.applyMarkEventsSeen(c)), true
	case *ArchiveEvents:
		return result(t.applyArchiveEvents(c)), true
	}
	return nil, false
}
