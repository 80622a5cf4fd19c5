package state

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// accountLog returns commands that exercise settings, follows, icons and
// download counts in the workspace of ada (workspace 2).
func accountLog() []Command {
	return []Command{
		createUser(1, "ada"),
		createUser(3, "bob"),
		createProject(30, 2, "cars"),
		createModel(31, 30, "yolo"),
		&UpdateSettings{UserID: id(1), FullName: ptr("Ada L"), Socials: map[string]string{"github": "https://github.com/ada"},
			Preferences: map[string]string{"theme": "dark", "units": "metric"}, UpdatedAt: at(40)},
		&UpdateSettings{UserID: id(1), Bio: ptr("maps"), Preferences: map[string]string{"units": ""}, UpdatedAt: at(41)},
		&SetFollow{UserID: id(3), WorkspaceID: id(2), Followed: true},
		&SetProjectIcon{Icon: ProjectIcon{ProjectID: id(30), SHA256: hash(5), ContentType: "image/png", Size: 10, UpdatedAt: at(42)}},
		&TrackModelDownload{ModelID: id(31), At: at(43)},
		&TrackModelDownload{ModelID: id(31), At: at(44)},
	}
}

func TestAccountCommandsApply(t *testing.T) {
	l := newLog()
	for _, c := range accountLog() {
		l.must(t, c)
	}
	want := Settings{UserID: id(1), FullName: "Ada L", Bio: "maps", Socials: map[string]string{"github": "https://github.com/ada"},
		Preferences: map[string]string{"theme": "dark"}, UpdatedAt: at(41)}
	if diff := cmp.Diff(want, l.fsm.Settings(id(1))); diff != "" {
		t.Errorf("settings (-want +got):\n%s", diff)
	}
	if n, following := l.fsm.Followers(id(2), id(3)); n != 1 || !following {
		t.Errorf("Followers = %d, %v; want 1, true", n, following)
	}
	if d := l.fsm.ModelDownloads(id(31)); d.Count != 2 || !d.LastAt.Equal(at(44)) {
		t.Errorf("downloads = %+v, want 2 with the last at minute 44", d)
	}
	if !l.fsm.BlobReferenced(hash(5)) {
		t.Errorf("icon blob is not reported as referenced")
	}
	change := l.must(t, &SetProjectIcon{Icon: ProjectIcon{ProjectID: id(30)}}).(IconChange)
	if change.Previous != hash(5) {
		t.Errorf("removing the icon reported previous %q, want %q", change.Previous, hash(5))
	}
	if _, ok := l.fsm.ProjectIcon(id(30)); ok {
		t.Errorf("icon still set after removal")
	}
	state := l.must(t, &SetFollow{UserID: id(3), WorkspaceID: id(2), Followed: false}).(FollowState)
	if state.Followed || state.FollowerCount != 0 {
		t.Errorf("unfollow = %+v, want not followed and no followers", state)
	}
}

func TestAccountCommandsReject(t *testing.T) {
	l := newLog()
	for _, c := range accountLog()[:4] {
		l.must(t, c)
	}
	long := string(make([]byte, maxBioLen+1))
	for _, c := range []struct {
		name string
		cmd  Command
		want error
	}{
		{"unknown user settings", &UpdateSettings{UserID: id(99), Bio: ptr("x")}, ErrNotFound},
		{"bio too long", &UpdateSettings{UserID: id(1), Bio: &long}, ErrInvalid},
		{"unknown social", &UpdateSettings{UserID: id(1), Socials: map[string]string{"myspace": "x"}}, ErrInvalid},
		{"follow self", &SetFollow{UserID: id(1), WorkspaceID: id(2), Followed: true}, ErrInvalid},
		{"follow unknown workspace", &SetFollow{UserID: id(1), WorkspaceID: id(98), Followed: true}, ErrNotFound},
		{"icon of unknown project", &SetProjectIcon{Icon: ProjectIcon{ProjectID: id(97), SHA256: hash(1), ContentType: "image/png", Size: 1}}, ErrNotFound},
		{"icon without size", &SetProjectIcon{Icon: ProjectIcon{ProjectID: id(30), SHA256: hash(1), ContentType: "image/png"}}, ErrInvalid},
		{"download of unknown model", &TrackModelDownload{ModelID: id(96)}, ErrNotFound},
	} {
		if _, err := l.apply(t, c.cmd); !errors.Is(err, c.want) {
			t.Errorf("%s: error %v, want %v", c.name, err, c.want)
		}
	}
}

func TestAccountTablesRoundTrip(t *testing.T) {
	l := newLog()
	for _, c := range accountLog() {
		l.must(t, c)
	}
	f, data := restoreCopy(t, l.fsm)
	if diff := cmp.Diff(l.fsm.t.account, f.t.account); diff != "" {
		t.Errorf("account tables after restore (-want +got):\n%s", diff)
	}
	counts := recordCounts(t, data)
	for _, rt := range []RecordType{RecordSettings, RecordFollow, RecordProjectIcon, RecordModelDownloads} {
		if counts[rt] != 1 {
			t.Errorf("snapshot has %d records of type %d, want 1", counts[rt], rt)
		}
	}
}
