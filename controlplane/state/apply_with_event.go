package state

import (
	"encoding/json"
	"fmt"
)

// CmdWithEvent wraps a command and its activity event in one log entry.
// Numbers 50 to 59 belong to the cluster write path.
const CmdWithEvent CommandType = 50

// WithEvent applies Command and, when it succeeds, records Event in the
// same log entry, so that a write and its activity event cost one Raft
// round trip and one fsync and commit together. Its result is Command's.
//
// Event is checked before Command runs, so an event that could not be
// stored fails the whole entry and changes nothing.
type WithEvent struct {
	Command Command
	Event   Event
}

func (*WithEvent) CommandType() CommandType { return CmdWithEvent }

// withEventJSON is the encoded form of WithEvent: the wrapped command's
// number next to its JSON body.
type withEventJSON struct {
	Type    CommandType     `json:"type"`
	Command json.RawMessage `json:"command"`
	Event   Event           `json:"event"`
}

// MarshalJSON encodes the wrapped command with its number, so that
// UnmarshalJSON can pick the type to decode.
func (c *WithEvent) MarshalJSON() ([]byte, error) {
	if c.Command == nil {
		return nil, fmt.Errorf("%w: command with event wraps no command", ErrInvalid)
	}
	body, err := json.Marshal(c.Command)
	if err != nil {
		return nil, err
	}
	return json.Marshal(withEventJSON{Type: c.Command.CommandType(), Command: body, Event: c.Event})
}

// UnmarshalJSON decodes the wrapped command. It rejects an unknown type and
// a nested WithEvent, which would let one entry record several events.
func (c *WithEvent) UnmarshalJSON(b []byte) error {
	var w withEventJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	if w.Type == CmdWithEvent {
		return fmt.Errorf("%w: command with event wraps another command with event", ErrInvalid)
	}
	cmd := newCommand(w.Type)
	if cmd == nil {
		return fmt.Errorf("%w: command with event wraps unknown command type %d", ErrInvalid, w.Type)
	}
	if err := json.Unmarshal(w.Command, cmd); err != nil {
		return fmt.Errorf("%w: decode wrapped command %d: %w", ErrInvalid, w.Type, err)
	}
	c.Command, c.Event = cmd, w.Event
	return nil
}

// applyWithEvent checks the event, applies the wrapped command through the
// ordinary dispatch and stores the event. It runs under the FSM's write
// lock like every apply function.
func (f *FSM) applyWithEvent(c *WithEvent) any {
	if err := f.t.checkEvent(&c.Event); err != nil {
		return err
	}
	v := f.dispatch(c.Command)
	if err, ok := v.(error); ok {
		return err
	}
	// The event passed checkEvent before the command ran, so this fails
	// only when the command removed the event's workspace, which no command
	// does. Every node would then reach the same state: the write without
	// its event.
	_, _ = f.t.applyRecordEvent(&RecordEvent{Event: c.Event})
	return v
}

// checkEvent returns the error applyRecordEvent would return for e in the
// current state, without storing it.
func (t *tables) checkEvent(e *Event) error {
	if err := e.validate(); err != nil {
		return err
	}
	if _, ok := t.events[e.ID]; ok {
		return fmt.Errorf("%w: event ID %q already exists", ErrConflict, e.ID)
	}
	if _, ok := t.workspaces[e.WorkspaceID]; !ok {
		return fmt.Errorf("%w: workspace %q", ErrNotFound, e.WorkspaceID)
	}
	return nil
}
