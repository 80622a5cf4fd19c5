package state

import (
	"bytes"
	"errors"
	"testing"
)

// teamLog returns commands that exercise teams, the trash and activity.
func teamLog() []Command {
	return []Command{
		createUser(1, "ada"),
		createUser(3, "bob"),
		&CreateWorkspace{WorkspaceID: id(20), Slug: "acme", Name: "Acme", OwnerID: id(1), CreatedAt: at(20)},
		&AddMember{WorkspaceID: id(20), UserID: id(3), Role: RoleViewer, CreatedAt: at(21)},
		&UpdateMember{WorkspaceID: id(20), UserID: id(3), Role: RoleEditor},
		createProject(30, 20, "cars"),
		createModel(31, 30, "yolo"),
		createModel(32, 30, "old"),
		&DeleteModel{ModelID: id(32), DeletedAt: at(33)},
		&DeleteProject{ProjectID: id(30), DeletedAt: at(34)},
		&RecordEvent{Event: Event{ID: id(40), WorkspaceID: id(20), UserID: id(1), Action: "deleted", ResourceType: "project", ResourceID: id(30), Message: "Deleted project cars", CreatedAt: at(40)}},
		&RecordEvent{Event: Event{ID: id(41), WorkspaceID: id(20), UserID: id(3), Action: "created", ResourceType: "model", ResourceID: id(31), Message: "Created model yolo", CreatedAt: at(41)}},
		&MarkEventsSeen{WorkspaceID: id(20), EventIDs: []string{id(40), id(99)}, At: at(42)},
		&ArchiveEvents{WorkspaceID: id(20), At: at(43)},
	}
}

func TestTeamLogDeterministicAndRoundTrips(t *testing.T) {
	a, b := newLog(), newLog()
	for _, c := range teamLog() {
		a.must(t, c)
		b.must(t, c)
	}
	data := snapshotBytes(t, a.fsm)
	if !bytes.Equal(data, snapshotBytes(t, b.fsm)) {
		t.Fatalf("snapshots of two FSMs that applied the same log differ")
	}
	f, err := restoreFrom(t, data)
	if err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if !bytes.Equal(snapshotBytes(t, f), data) {
		t.Errorf("snapshot after restore differs from the restored snapshot")
	}
	events, _, err := f.ListEvents(id(20), EventFilter{Archived: true}, "", 10)
	if err != nil || len(events) != 2 {
		t.Fatalf("ListEvents(archived) after restore = %d events, %v; want 2", len(events), err)
	}
	if events[0].SeenAt == nil || events[1].SeenAt != nil {
		t.Errorf("seen times after restore = %v, %v; want only the first set", events[0].SeenAt, events[1].SeenAt)
	}
	if _, ok := f.Member(id(20), id(3)); !ok {
		t.Errorf("member bob missing after restore")
	}
}

func TestRestoreProjectBringsBackItsModels(t *testing.T) {
	l := newLog()
	for _, c := range teamLog()[:10] {
		l.must(t, c)
	}
	res := l.must(t, &RestoreProject{ProjectID: id(30), RestoredAt: at(50)}).(RestoredProject)
	if res.Models != 1 {
		t.Errorf("restored models = %d, want 1 (the model deleted before the project stays)", res.Models)
	}
	if m, _ := l.fsm.ModelByID(id(31)); m.DeletedAt != nil {
		t.Errorf("model yolo still in the trash")
	}
	if m, _ := l.fsm.ModelByID(id(32)); m.DeletedAt == nil {
		t.Errorf("model old left the trash with the project")
	}
	if _, err := l.apply(t, &RestoreProject{ProjectID: id(30), RestoredAt: at(51)}); !errors.Is(err, ErrNotFound) {
		t.Errorf("second restore error = %v, want ErrNotFound", err)
	}
	if _, err := l.apply(t, &RestoreModel{ModelID: id(32), RestoredAt: at(52)}); err != nil {
		t.Errorf("RestoreModel: %v", err)
	}
}

func TestRestoreModelNeedsLiveProject(t *testing.T) {
	l := newLog()
	for _, c := range teamLog()[:10] {
		l.must(t, c)
	}
	if _, err := l.apply(t, &RestoreModel{ModelID: id(31), RestoredAt: at(50)}); !errors.Is(err, ErrInvalid) {
		t.Errorf("RestoreModel in a trashed project error = %v, want ErrInvalid", err)
	}
}

func TestPurgeTrashRemovesOnlyExpired(t *testing.T) {
	l := newLog()
	for _, c := range teamLog()[:10] {
		l.must(t, c)
	}
	res := l.must(t, &PurgeTrash{Before: at(34)}).(PurgeResult)
	if len(res.Projects) != 0 || len(res.Models) != 1 || res.Models[0].ID != id(32) {
		t.Fatalf("purge before the project's deletion = %+v, want model old only", res)
	}
	res = l.must(t, &PurgeTrash{Before: at(35)}).(PurgeResult)
	if len(res.Projects) != 1 || len(res.Models) != 1 || res.Models[0].ID != id(31) {
		t.Fatalf("purge after the project's deletion = %+v, want project cars with model yolo", res)
	}
	if _, ok := l.fsm.ProjectByID(id(30)); ok {
		t.Errorf("project cars still stored after purge")
	}
	if l.fsm.BlobReferenced(hash(31)) {
		t.Errorf("file of the purged model still referenced")
	}
}

func TestMembersKeepLastAdmin(t *testing.T) {
	l := newLog()
	for _, c := range teamLog()[:5] {
		l.must(t, c)
	}
	if _, err := l.apply(t, &UpdateMember{WorkspaceID: id(20), UserID: id(1), Role: RoleViewer}); !errors.Is(err, ErrInvalid) {
		t.Errorf("demote last admin error = %v, want ErrInvalid", err)
	}
	if _, err := l.apply(t, &RemoveMember{WorkspaceID: id(20), UserID: id(1)}); !errors.Is(err, ErrInvalid) {
		t.Errorf("remove last admin error = %v, want ErrInvalid", err)
	}
	if _, err := l.apply(t, &AddMember{WorkspaceID: id(2), UserID: id(3), Role: RoleViewer, CreatedAt: at(9)}); !errors.Is(err, ErrInvalid) {
		t.Errorf("add member to personal workspace error = %v, want ErrInvalid", err)
	}
	l.must(t, &RemoveMember{WorkspaceID: id(20), UserID: id(3)})
	if _, ok := l.fsm.Member(id(20), id(3)); ok {
		t.Errorf("removed member still listed")
	}
	if ws := l.fsm.WorkspacesOf(id(3)); len(ws) != 1 {
		t.Errorf("bob is in %d workspaces after removal, want 1", len(ws))
	}
	if _, err := l.apply(t, &CreateWorkspace{WorkspaceID: id(22), Slug: "bob", Name: "B", OwnerID: id(1), CreatedAt: at(22)}); !errors.Is(err, ErrConflict) {
		t.Errorf("workspace named like a user error = %v, want ErrConflict", err)
	}
}

func TestListEventsFilters(t *testing.T) {
	l := newLog()
	for _, c := range teamLog()[:12] {
		l.must(t, c)
	}
	cases := []struct {
		name   string
		filter EventFilter
		want   int
	}{
		{"all", EventFilter{}, 2},
		{"search", EventFilter{Search: "MODEL"}, 1},
		{"start", EventFilter{Start: at(41)}, 1},
		{"end", EventFilter{End: at(40)}, 1},
		{"archived", EventFilter{Archived: true}, 0},
	}
	for _, c := range cases {
		got, _, err := l.fsm.ListEvents(id(20), c.filter, "", 10)
		if err != nil || len(got) != c.want {
			t.Errorf("%s: got %d events, %v; want %d", c.name, len(got), err, c.want)
		}
	}
}
