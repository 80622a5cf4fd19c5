package state

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func projectIDs(ps []Project) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.ID
	}
	return out
}

func TestListProjectsPages(t *testing.T) {
	l := newLog()
	l.must(t, createUser(1, "ada"))
	// Projects 10..14 share one creation time so the ID breaks the tie.
	var want []string
	for n := 10; n < 20; n++ {
		c := createProject(n, 2, "p"+id(n)[20:])
		if n < 15 {
			c.CreatedAt = at(10)
		}
		l.must(t, c)
		want = append(want, id(n))
	}

	tests := []struct {
		limit int
		pages int
	}{{1, 10}, {3, 4}, {10, 1}, {11, 1}, {1000, 1}}
	for _, tt := range tests {
		var got []string
		cursor, pages := "", 0
		for {
			ps, next, err := l.fsm.ListProjects(id(2), cursor, tt.limit)
			if err != nil {
				t.Fatalf("ListProjects(limit %d): %v", tt.limit, err)
			}
			if len(ps) > tt.limit {
				t.Fatalf("page of %d projects, limit %d", len(ps), tt.limit)
			}
			got = append(got, projectIDs(ps)...)
			pages++
			if next == "" {
				break
			}
			cursor = next
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("limit %d: IDs (-want +got):\n%s", tt.limit, diff)
		}
		if pages != tt.pages {
			t.Errorf("limit %d: %d pages, want %d", tt.limit, pages, tt.pages)
		}
	}
}

func TestListStableAcrossChanges(t *testing.T) {
	l := newLog()
	l.must(t, createUser(1, "ada"))
	for n := 10; n < 16; n++ {
		l.must(t, createProject(n, 2, "p"+id(n)[20:]))
	}
	page1, cursor, err := l.fsm.ListProjects(id(2), "", 3)
	if err != nil {
		t.Fatalf("ListProjects: %v", err)
	}
	if diff := cmp.Diff([]string{id(10), id(11), id(12)}, projectIDs(page1)); diff != "" {
		t.Fatalf("page 1 (-want +got):\n%s", diff)
	}

	// Between pages: delete the cursor item and the next one, create a
	// project that sorts before the cursor and one after the end.
	l.must(t, &DeleteProject{ProjectID: id(12), DeletedAt: at(100), Permanent: true})
	l.must(t, &DeleteProject{ProjectID: id(13), DeletedAt: at(100)})
	early := createProject(30, 2, "early")
	early.CreatedAt = at(0)
	l.must(t, early)
	l.must(t, createProject(40, 2, "late"))

	page2, next, err := l.fsm.ListProjects(id(2), cursor, 10)
	if err != nil {
		t.Fatalf("ListProjects page 2: %v", err)
	}
	if diff := cmp.Diff([]string{id(14), id(15), id(40)}, projectIDs(page2)); diff != "" {
		t.Errorf("page 2 (-want +got):\n%s", diff)
	}
	if next != "" {
		t.Errorf("next cursor after the last page = %q, want empty", next)
	}

	trash, _, err := l.fsm.ListDeletedProjects(id(2), "", 10)
	if err != nil {
		t.Fatalf("ListDeletedProjects: %v", err)
	}
	if diff := cmp.Diff([]string{id(13)}, projectIDs(trash)); diff != "" {
		t.Errorf("trash (-want +got):\n%s", diff)
	}
}

func TestListModelsFilter(t *testing.T) {
	l := newLog()
	l.must(t, createUser(1, "ada"))
	l.must(t, createUser(3, "bob"))
	l.must(t, createProject(10, 2, "a"))
	l.must(t, createProject(11, 2, "b"))
	l.must(t, createProject(12, 4, "c"))
	l.must(t, createModel(20, 10, "m1"))
	seg := createModel(21, 10, "m2")
	seg.Task = "segment"
	l.must(t, seg)
	l.must(t, createModel(22, 11, "m3"))
	l.must(t, createModel(23, 12, "m4"))
	l.must(t, createModel(24, 12, "m5"))
	l.must(t, &DeleteModel{ModelID: id(24), DeletedAt: at(50)})

	tests := []struct {
		name   string
		filter ModelFilter
		want   []string
	}{
		{"all", ModelFilter{}, []string{id(20), id(21), id(22), id(23)}},
		{"workspace", ModelFilter{WorkspaceID: id(2)}, []string{id(20), id(21), id(22)}},
		{"project", ModelFilter{ProjectID: id(10)}, []string{id(20), id(21)}},
		{"project and other workspace", ModelFilter{ProjectID: id(10), WorkspaceID: id(4)}, nil},
		{"task", ModelFilter{WorkspaceID: id(2), Task: "segment"}, []string{id(21)}},
		{"deleted", ModelFilter{Deleted: true}, []string{id(24)}},
		{"unknown project", ModelFilter{ProjectID: id(99)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			cursor := ""
			for {
				ms, next, err := l.fsm.ListModels(tt.filter, cursor, 1)
				if err != nil {
					t.Fatalf("ListModels: %v", err)
				}
				for _, m := range ms {
					got = append(got, m.ID)
				}
				if next == "" {
					break
				}
				cursor = next
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("IDs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestListArgumentErrors(t *testing.T) {
	tests := []struct {
		name   string
		cursor string
		limit  int
	}{
		{"zero limit", "", 0},
		{"limit over max", "", MaxListLimit + 1},
		{"cursor not base64", "!!!", 10},
		{"cursor without id", encodeCursorString("2025-01-01T00:00:00Z"), 10},
		{"cursor bad time", encodeCursorString("yesterday " + id(1)), 10},
		{"cursor bad id", encodeCursorString("2025-01-01T00:00:00Z ../x"), 10},
	}
	f := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := f.ListProjects(id(2), tt.cursor, tt.limit)
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("err = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestCursorRoundTrip(t *testing.T) {
	k := orderKey{created: at(5).Add(123), id: id(7)}
	got, err := decodeCursor(encodeCursor(k))
	if err != nil {
		t.Fatalf("decodeCursor: %v", err)
	}
	if !got.created.Equal(k.created) || got.id != k.id {
		t.Errorf("decodeCursor(encodeCursor(%v)) = %v", k, got)
	}
}
