package state

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/raft"
)

func TestCreateUserMakesPersonalWorkspace(t *testing.T) {
	l := newLog()
	got := l.must(t, &CreateUser{
		UserID: id(1), WorkspaceID: id(2), Username: "ada", Email: "Ada@Example.com",
		DisplayName: "Ada L", CreatedAt: t0.In(time.FixedZone("CET", 3600)),
	}).(CreatedUser)

	want := CreatedUser{
		User:      User{ID: id(1), Username: "ada", Email: "Ada@Example.com", DisplayName: "Ada L", CreatedAt: t0},
		Workspace: Workspace{ID: id(2), Slug: "ada", Name: "Ada L", Personal: true, Plan: PlanFree, CreatedAt: t0},
		Member:    Member{WorkspaceID: id(2), UserID: id(1), Role: RoleAdmin, CreatedAt: t0},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("CreateUser result (-want +got):\n%s", diff)
	}
	if got.User.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt location = %v, want UTC", got.User.CreatedAt.Location())
	}
	if u, ok := l.fsm.UserByUsername("ada"); !ok || u.ID != id(1) {
		t.Errorf("UserByUsername(ada) = %v, %v", u, ok)
	}
	if u, ok := l.fsm.UserByEmail("ada@example.com"); !ok || u.ID != id(1) {
		t.Errorf("UserByEmail(lowercase) = %v, %v", u, ok)
	}
	if w, ok := l.fsm.WorkspaceBySlug("ada"); !ok || w != want.Workspace {
		t.Errorf("WorkspaceBySlug(ada) = %v, %v", w, ok)
	}
	if diff := cmp.Diff([]Member{want.Member}, l.fsm.MembersOf(id(2))); diff != "" {
		t.Errorf("MembersOf (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]Workspace{want.Workspace}, l.fsm.WorkspacesOf(id(1))); diff != "" {
		t.Errorf("WorkspacesOf (-want +got):\n%s", diff)
	}
}

func TestAPIKeyLifecycle(t *testing.T) {
	l := newLog()
	l.must(t, createUser(1, "ada"))
	created := l.must(t, &CreateAPIKey{
		KeyID: id(10), Name: "ci", UserID: id(1), WorkspaceID: id(2),
		Hash: hash(7), Prefix: "ul_1a2b", CreatedAt: at(10),
	}).(APIKey)
	want := APIKey{ID: id(10), Name: "ci", UserID: id(1), WorkspaceID: id(2), Hash: hash(7), Prefix: "ul_1a2b", CreatedAt: at(10)}
	if diff := cmp.Diff(want, created); diff != "" {
		t.Errorf("CreateAPIKey result (-want +got):\n%s", diff)
	}
	if got, ok := l.fsm.KeyByHash(hash(7)); !ok || !cmp.Equal(got, want) {
		t.Errorf("KeyByHash = %+v, %v", got, ok)
	}

	moved := l.must(t, &TouchAPIKeys{Uses: []KeyUse{
		{KeyID: id(10), At: at(20)},
		{KeyID: id(10), At: at(15)}, // older: LastUsedAt must not go back
		{KeyID: id(99), At: at(20)}, // unknown keys are ignored
	}}).(int)
	if moved != 1 {
		t.Errorf("TouchAPIKeys moved %d keys, want 1", moved)
	}
	if got, _ := l.fsm.KeyByID(id(10)); got.LastUsedAt == nil || !got.LastUsedAt.Equal(at(20)) {
		t.Errorf("LastUsedAt = %v, want %v", got.LastUsedAt, at(20))
	}

	for range 2 { // revoking twice is allowed and changes nothing the second time
		revoked := l.must(t, &RevokeAPIKey{KeyID: id(10), RevokedAt: at(30)}).(APIKey)
		if !revoked.Revoked || revoked.RevokedAt == nil || !revoked.RevokedAt.Equal(at(30)) {
			t.Errorf("RevokeAPIKey result = %+v, want revoked at %v", revoked, at(30))
		}
	}
	if got, ok := l.fsm.KeyByHash(hash(7)); !ok || !got.Revoked {
		t.Errorf("KeyByHash after revoke = %+v, %v, want revoked key", got, ok)
	}
	if got := l.fsm.KeysOf(id(1)); len(got) != 1 || got[0].ID != id(10) {
		t.Errorf("KeysOf = %+v, want one key %s", got, id(10))
	}
}

func TestProjectLifecycle(t *testing.T) {
	l := newLog()
	l.must(t, createUser(1, "ada"))
	l.must(t, createProject(10, 2, "cars"))
	l.must(t, createModel(20, 10, "best"))

	updated := l.must(t, &UpdateProject{ProjectID: id(10), Slug: ptr("trucks"), Description: ptr("big"), UpdatedAt: at(50)}).(Project)
	want := Project{ID: id(10), WorkspaceID: id(2), Slug: "trucks", Name: "cars", Description: "big", CreatedAt: at(10), UpdatedAt: at(50)}
	if diff := cmp.Diff(want, updated); diff != "" {
		t.Errorf("UpdateProject result (-want +got):\n%s", diff)
	}
	if _, ok := l.fsm.ProjectBySlug(id(2), "cars"); ok {
		t.Errorf("ProjectBySlug(old slug) found a project after rename")
	}
	if got, ok := l.fsm.ProjectBySlug(id(2), "trucks"); !ok || got.ID != id(10) {
		t.Errorf("ProjectBySlug(new slug) = %v, %v", got, ok)
	}

	deleted := l.must(t, &DeleteProject{ProjectID: id(10), DeletedAt: at(60)}).(Project)
	if deleted.DeletedAt == nil || !deleted.DeletedAt.Equal(at(60)) {
		t.Errorf("DeleteProject DeletedAt = %v, want %v", deleted.DeletedAt, at(60))
	}
	if m, _ := l.fsm.ModelByID(id(20)); m.DeletedAt == nil || !m.DeletedAt.Equal(at(60)) {
		t.Errorf("model of deleted project has DeletedAt %v, want %v", m.DeletedAt, at(60))
	}
	if _, ok := l.fsm.ProjectBySlug(id(2), "trucks"); ok {
		t.Errorf("ProjectBySlug found a deleted project")
	}
	// The slug is free again once the project is in the trash.
	l.must(t, createProject(11, 2, "trucks"))

	l.must(t, &DeleteProject{ProjectID: id(10), DeletedAt: at(70), Permanent: true})
	if _, ok := l.fsm.ProjectByID(id(10)); ok {
		t.Errorf("ProjectByID found a permanently deleted project")
	}
	if _, ok := l.fsm.ModelByID(id(20)); ok {
		t.Errorf("ModelByID found a model of a permanently deleted project")
	}
}

func TestModelLifecycle(t *testing.T) {
	l := newLog()
	l.must(t, createUser(1, "ada"))
	l.must(t, createProject(10, 2, "cars"))
	created := l.must(t, createModel(20, 10, "best")).(Model)
	want := Model{
		ID: id(20), ProjectID: id(10), WorkspaceID: id(2), Slug: "best", Name: "best", Task: "detect",
		Format: FormatONNX, FileSHA256: hash(20), FileSize: 1234, Status: ModelStatusReady,
		Metadata: map[string]string{"names": `{"0":"person"}`, "imgsz": "[640,640]"}, CreatedAt: at(20), UpdatedAt: at(20),
	}
	if diff := cmp.Diff(want, created); diff != "" {
		t.Errorf("CreateModel result (-want +got):\n%s", diff)
	}
	created.Metadata["names"] = "changed by caller"
	if got, _ := l.fsm.ModelByID(id(20)); got.Metadata["names"] != `{"0":"person"}` {
		t.Errorf("changing a returned model changed the stored one: %q", got.Metadata["names"])
	}

	updated := l.must(t, &UpdateModel{
		ModelID: id(20), Slug: ptr("v2"), Status: ptr(ModelStatusNeedsExport), Metadata: map[string]string{},
		File: &ModelFile{Format: FormatPyTorch, SHA256: hash(21), Size: 99}, UpdatedAt: at(30),
	}).(Model)
	want.Slug, want.Status, want.Metadata = "v2", ModelStatusNeedsExport, nil
	want.Format, want.FileSHA256, want.FileSize, want.UpdatedAt = FormatPyTorch, hash(21), 99, at(30)
	if diff := cmp.Diff(want, updated); diff != "" {
		t.Errorf("UpdateModel result (-want +got):\n%s", diff)
	}
	if got, ok := l.fsm.ModelBySlug(id(10), "v2"); !ok || got.ID != id(20) {
		t.Errorf("ModelBySlug(v2) = %v, %v", got, ok)
	}

	l.must(t, &DeleteModel{ModelID: id(20), DeletedAt: at(40)})
	if _, ok := l.fsm.ModelBySlug(id(10), "v2"); ok {
		t.Errorf("ModelBySlug found a deleted model")
	}
	if _, err := l.apply(t, &UpdateModel{ModelID: id(20), Name: ptr("x"), UpdatedAt: at(41)}); !errors.Is(err, ErrNotFound) {
		t.Errorf("UpdateModel on a deleted model: err = %v, want ErrNotFound", err)
	}
	l.must(t, &DeleteModel{ModelID: id(20), DeletedAt: at(50), Permanent: true})
	if _, ok := l.fsm.ModelByID(id(20)); ok {
		t.Errorf("ModelByID found a permanently deleted model")
	}
}

func TestApplyErrors(t *testing.T) {
	tests := []struct {
		name string
		cmd  Command
		want error
		msg  string // a part of the message that names the field or value
	}{
		{"username pattern", createUser(50, "Bad_Name"), ErrInvalid, `"Bad_Name"`},
		{"username hex id", createUser(50, "0123456789abcdef01234567"), ErrInvalid, "resource ID"},
		{"username reserved", createUser(50, "trash"), ErrInvalid, "reserved"},
		{"username taken", createUser(50, "ada"), ErrConflict, `"ada"`},
		{"email taken", &CreateUser{UserID: id(50), WorkspaceID: id(51), Username: "bob", Email: "ADA@example.com", CreatedAt: t0}, ErrConflict, "email"},
		{"user id upper case", &CreateUser{UserID: strings.ToUpper("abcdef") + id(0)[6:], WorkspaceID: id(51), Username: "bob", CreatedAt: t0}, ErrInvalid, "user ID"},
		{"user missing time", &CreateUser{UserID: id(50), WorkspaceID: id(51), Username: "bob"}, ErrInvalid, "created time"},
		{"user bad plan", &CreateUser{UserID: id(50), WorkspaceID: id(51), Username: "bob", Plan: "gold", CreatedAt: t0}, ErrInvalid, `"gold"`},
		{"key short hash", &CreateAPIKey{KeyID: id(50), UserID: id(1), WorkspaceID: id(2), Hash: "abc", Prefix: "ul_1234", CreatedAt: t0}, ErrInvalid, "key hash"},
		{"key bad prefix", &CreateAPIKey{KeyID: id(50), UserID: id(1), WorkspaceID: id(2), Hash: hash(50), Prefix: "xx_1234", CreatedAt: t0}, ErrInvalid, "prefix"},
		{"key hash taken", &CreateAPIKey{KeyID: id(50), UserID: id(1), WorkspaceID: id(2), Hash: hash(7), Prefix: "ul_1234", CreatedAt: t0}, ErrConflict, "hash"},
		{"key not member", &CreateAPIKey{KeyID: id(50), UserID: id(1), WorkspaceID: id(99), Hash: hash(50), Prefix: "ul_1234", CreatedAt: t0}, ErrNotFound, "member"},
		{"revoke unknown key", &RevokeAPIKey{KeyID: id(99), RevokedAt: t0}, ErrNotFound, id(99)},
		{"project no workspace", createProject(50, 99, "x"), ErrNotFound, id(99)},
		{"project slug taken", createProject(50, 2, "cars"), ErrConflict, `"cars"`},
		{"project id taken", createProject(10, 2, "other"), ErrConflict, id(10)},
		{"project missing name", &CreateProject{ProjectID: id(50), WorkspaceID: id(2), Slug: "x", CreatedAt: t0}, ErrInvalid, "project name"},
		{"project long description", &CreateProject{ProjectID: id(50), WorkspaceID: id(2), Slug: "x", Name: "x", Description: strings.Repeat("d", 2001), CreatedAt: t0}, ErrInvalid, "2001"},
		{"rename to taken slug", &UpdateProject{ProjectID: id(10), Slug: ptr("boats"), UpdatedAt: t0}, ErrConflict, `"boats"`},
		{"update unknown project", &UpdateProject{ProjectID: id(99), Name: ptr("x"), UpdatedAt: t0}, ErrNotFound, id(99)},
		{"delete unknown project", &DeleteProject{ProjectID: id(99), DeletedAt: t0}, ErrNotFound, id(99)},
		{"model slug taken", createModel(50, 10, "best"), ErrConflict, `"best"`},
		{"model no project", createModel(50, 99, "x"), ErrNotFound, id(99)},
		{"model bad format", &CreateModel{ModelID: id(50), ProjectID: id(10), Slug: "x", Name: "x", Format: "tflite", Status: ModelStatusReady, CreatedAt: t0}, ErrInvalid, `"tflite"`},
		{"model bad task", &CreateModel{ModelID: id(50), ProjectID: id(10), Slug: "x", Name: "x", Task: "track", Format: FormatONNX, Status: ModelStatusReady, CreatedAt: t0}, ErrInvalid, `"track"`},
		{"model bad status", &CreateModel{ModelID: id(50), ProjectID: id(10), Slug: "x", Name: "x", Format: FormatONNX, Status: "done", CreatedAt: t0}, ErrInvalid, `"done"`},
		{"model negative size", &CreateModel{ModelID: id(50), ProjectID: id(10), Slug: "x", Name: "x", Format: FormatONNX, FileSize: -1, Status: ModelStatusReady, CreatedAt: t0}, ErrInvalid, "-1"},
		{"model bad sha", &CreateModel{ModelID: id(50), ProjectID: id(10), Slug: "x", Name: "x", Format: FormatONNX, FileSHA256: "../etc", Status: ModelStatusReady, CreatedAt: t0}, ErrInvalid, "file SHA-256"},
		{"model empty metadata key", &CreateModel{ModelID: id(50), ProjectID: id(10), Slug: "x", Name: "x", Format: FormatONNX, Status: ModelStatusReady, Metadata: map[string]string{"": "v"}, CreatedAt: t0}, ErrInvalid, "metadata key"},
		{"rename model to taken slug", &UpdateModel{ModelID: id(20), Slug: ptr("other"), UpdatedAt: t0}, ErrConflict, `"other"`},
		{"delete unknown model", &DeleteModel{ModelID: id(99), DeletedAt: t0}, ErrNotFound, id(99)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLog()
			l.must(t, createUser(1, "ada"))
			l.must(t, &CreateAPIKey{KeyID: id(5), UserID: id(1), WorkspaceID: id(2), Hash: hash(7), Prefix: "ul_1a2b", CreatedAt: t0})
			l.must(t, createProject(10, 2, "cars"))
			l.must(t, createProject(11, 2, "boats"))
			l.must(t, createModel(20, 10, "best"))
			l.must(t, createModel(21, 10, "other"))
			before := snapshotBytes(t, l.fsm)

			_, err := l.apply(t, tt.cmd)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not mention %q", err, tt.msg)
			}
			// A rejected command changes nothing but the applied index.
			l.fsm.applied--
			if after := snapshotBytes(t, l.fsm); !bytes.Equal(before, after) {
				t.Errorf("state changed by a rejected command")
			}
		})
	}
}

func TestApplyMalformedEntry(t *testing.T) {
	f := New()
	for _, data := range [][]byte{nil, {byte(CmdCreateUser), '{'}} {
		resp := f.Apply(&raft.Log{Index: 1, Type: raft.LogCommand, Data: data})
		if err, ok := resp.(error); !ok || !errors.Is(err, ErrInvalid) {
			t.Errorf("Apply(%q) = %v, want ErrInvalid", data, resp)
		}
	}
}

func TestApplyUnknownCommandPanics(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "command type 200") {
			t.Errorf("recover() = %v, want a panic naming command type 200", r)
		}
	}()
	New().Apply(&raft.Log{Index: 1, Type: raft.LogCommand, Data: []byte{200, '{', '}'}})
}

func TestApplyBatchMatchesApply(t *testing.T) {
	cmds := sampleLog()
	one, batch := newLog(), newLog()
	var logs []*raft.Log
	for _, c := range cmds {
		one.apply(t, c)
		logs = append(logs, batch.entry(t, c))
	}
	// Configuration entries share the batch and get nil responses.
	logs = append(logs, &raft.Log{Index: batch.index + 1, Type: raft.LogConfiguration})
	resps := batch.fsm.ApplyBatch(logs)
	if len(resps) != len(logs) {
		t.Fatalf("ApplyBatch returned %d responses for %d entries", len(resps), len(logs))
	}
	if resps[len(resps)-1] != nil {
		t.Errorf("response to a configuration entry = %v, want nil", resps[len(resps)-1])
	}
	if got := batch.fsm.AppliedIndex(); got != uint64(len(logs)) {
		t.Errorf("AppliedIndex = %d, want %d", got, len(logs))
	}
	batch.fsm.applied--
	if !bytes.Equal(snapshotBytes(t, one.fsm), snapshotBytes(t, batch.fsm)) {
		t.Errorf("ApplyBatch and Apply produced different state")
	}
}

func TestDeterminism(t *testing.T) {
	a, b := newLog(), newLog()
	for _, c := range sampleLog() {
		ra, errA := a.apply(t, c)
		rb, errB := b.apply(t, c)
		if !cmp.Equal(ra, rb) || (errA == nil) != (errB == nil) || (errA != nil && errA.Error() != errB.Error()) {
			t.Fatalf("%T: results differ: %v, %v vs %v, %v", c, ra, errA, rb, errB)
		}
	}
	sa, sb := snapshotBytes(t, a.fsm), snapshotBytes(t, b.fsm)
	if !bytes.Equal(sa, sb) {
		t.Errorf("snapshots of two FSMs that applied the same log differ")
	}
	if len(sa) < 1000 {
		t.Errorf("snapshot is %d bytes, too small to hold the sample state", len(sa))
	}
}

// sampleLog returns commands that touch every table, including ones that
// fail, with metadata maps large enough that map order would show.
func sampleLog() []Command {
	md := map[string]string{}
	for i := range 20 {
		md[string(rune('a'+i))] = strings.Repeat("x", i)
	}
	cmds := []Command{
		createUser(1, "ada"),
		createUser(3, "bob"),
		&CreateAPIKey{KeyID: id(5), Name: "k", UserID: id(1), WorkspaceID: id(2), Hash: hash(5), Prefix: "ul_0000", CreatedAt: at(5)},
		&CreateAPIKey{KeyID: id(6), Name: "k", UserID: id(3), WorkspaceID: id(4), Hash: hash(6), Prefix: "ul_0001", CreatedAt: at(6)},
		&TouchAPIKeys{Uses: []KeyUse{{KeyID: id(5), At: at(7)}, {KeyID: id(6), At: at(8)}}},
		&RevokeAPIKey{KeyID: id(6), RevokedAt: at(9)},
		createProject(10, 2, "cars"),
		createProject(11, 4, "cars"),
		createProject(12, 2, "cars"), // fails: slug taken
		&UpdateProject{ProjectID: id(11), Name: ptr("Cars"), UpdatedAt: at(13)},
	}
	for i := range 30 {
		m := createModel(100+i, 10+i%2, fmt.Sprintf("m%d", i))
		m.Metadata = md
		cmds = append(cmds, m)
	}
	return append(cmds,
		&UpdateModel{ModelID: id(100), Metadata: map[string]string{"z": "1", "y": "2"}, UpdatedAt: at(200)},
		&DeleteModel{ModelID: id(101), DeletedAt: at(201)},
		&DeleteModel{ModelID: id(102), DeletedAt: at(202), Permanent: true},
		&DeleteProject{ProjectID: id(11), DeletedAt: at(203)},
	)
}

func TestDecodeRoundTrip(t *testing.T) {
	for _, c := range sampleLog() {
		entry, err := Encode(c)
		if err != nil {
			t.Fatalf("Encode(%T): %v", c, err)
		}
		got, err := Decode(entry)
		if err != nil {
			t.Fatalf("Decode(%T): %v", c, err)
		}
		if diff := cmp.Diff(c, got); diff != "" {
			t.Errorf("Decode(Encode(%T)) (-want +got):\n%s", c, diff)
		}
	}
	for _, entry := range [][]byte{nil, {200, '{', '}'}, {byte(CmdCreateModel), 'x'}} {
		if _, err := Decode(entry); !errors.Is(err, ErrInvalid) {
			t.Errorf("Decode(%q) error = %v, want ErrInvalid", entry, err)
		}
	}
}

func TestCheckEntry(t *testing.T) {
	good, err := Encode(&CreateProject{ProjectID: "p", WorkspaceID: "w", Slug: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckEntry(good); err != nil {
		t.Errorf("CheckEntry(encoded command) = %v, want nil", err)
	}
	for name, entry := range map[string][]byte{
		"empty":          nil,
		"unknown type":   append([]byte{255}, good[1:]...),
		"truncated body": good[:len(good)-1],
		"no body":        good[:1],
	} {
		if err := CheckEntry(entry); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: CheckEntry = %v, want ErrInvalid", name, err)
		}
	}
}
