package state

import (
	"errors"
	"testing"
)

func projectEvent(n, ws int) Event {
	return Event{ID: id(n), WorkspaceID: id(ws), UserID: id(1), Action: "created",
		ResourceType: "project", ResourceID: id(10), Message: "Created project p", CreatedAt: at(n)}
}

func TestWithEventAppliesBoth(t *testing.T) {
	l := newLog()
	l.must(t, createUser(1, "ann"))
	v := l.must(t, &WithEvent{Command: createProject(10, 2, "p"), Event: projectEvent(20, 2)})
	if p, ok := v.(Project); !ok || p.ID != id(10) {
		t.Fatalf("result = %#v, want the created project", v)
	}
	if _, ok := l.fsm.ProjectByID(id(10)); !ok {
		t.Error("project missing after WithEvent")
	}
	if e, ok := l.fsm.EventByID(id(20)); !ok || e.ResourceID != id(10) {
		t.Errorf("event = %+v, %v; want the project's event", e, ok)
	}
}

func TestWithEventFailedCommandStoresNoEvent(t *testing.T) {
	l := newLog()
	l.must(t, createUser(1, "ann"))
	l.must(t, createProject(10, 2, "p"))
	_, err := l.apply(t, &WithEvent{Command: createProject(11, 2, "p"), Event: projectEvent(20, 2)})
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("duplicate slug error = %v, want ErrConflict", err)
	}
	if _, ok := l.fsm.EventByID(id(20)); ok {
		t.Error("event stored although its command failed")
	}
}

func TestWithEventBadEventChangesNothing(t *testing.T) {
	l := newLog()
	l.must(t, createUser(1, "ann"))
	_, err := l.apply(t, &WithEvent{Command: createProject(10, 2, "p"), Event: projectEvent(20, 99)})
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("event in a missing workspace: error = %v, want ErrNotFound", err)
	}
	if _, ok := l.fsm.ProjectByID(id(10)); ok {
		t.Error("project created although its event was rejected")
	}
}

func TestWithEventRoundTrips(t *testing.T) {
	in := &WithEvent{Command: createProject(10, 2, "p"), Event: projectEvent(20, 2)}
	entry, err := Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Decode(entry)
	if err != nil {
		t.Fatal(err)
	}
	w, ok := out.(*WithEvent)
	if !ok {
		t.Fatalf("Decode returned %T, want *WithEvent", out)
	}
	if p, ok := w.Command.(*CreateProject); !ok || p.ProjectID != id(10) || !p.CreatedAt.Equal(at(10)) {
		t.Errorf("wrapped command = %#v, want the CreateProject", w.Command)
	}
	if w.Event.ID != id(20) {
		t.Errorf("event ID = %q, want %q", w.Event.ID, id(20))
	}
}

func TestWithEventRejectsNesting(t *testing.T) {
	inner := &WithEvent{Command: createProject(10, 2, "p"), Event: projectEvent(20, 2)}
	entry, err := Encode(&WithEvent{Command: inner, Event: projectEvent(21, 2)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decode(entry); !errors.Is(err, ErrInvalid) {
		t.Fatalf("nested WithEvent: error = %v, want ErrInvalid", err)
	}
}
