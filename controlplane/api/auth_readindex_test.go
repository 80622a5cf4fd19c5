package api

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/yoloplane/yoloplane/controlplane/state"
	"github.com/yoloplane/yoloplane/shared/ids"
)

// TestUnknownKeyWaitsForReadIndex models a follower that has not yet applied
// the creation of a key: the key must authenticate once ReadIndex brings the
// state up to date, not get 401.
func TestUnknownKeyWaitsForReadIndex(t *testing.T) {
	e := newEnv(t)
	e.addUser("ada")
	ws := e.workspace("ada")
	late := NewKey()
	calls := 0
	b := e.srv.backend
	b.ReadIndex = func(context.Context) error {
		calls++
		if calls == 1 {
			e.must(&state.CreateAPIKey{KeyID: ids.New(), UserID: e.users["ada"], WorkspaceID: ws.ID, Name: "late",
				Hash: HashKey(late), Prefix: late[:7], CreatedAt: e.clock()})
		}
		return nil
	}
	e.srv.SetBackend(b)

	known := e.keys["ada"]
	if got := e.do("ada", "GET", "/api/projects", "").status; got != http.StatusOK {
		t.Fatalf("known key: status %d, want 200", got)
	}
	if calls != 0 {
		t.Errorf("known key ran %d read index calls, want none", calls)
	}

	e.keys["ada"] = late
	if res := e.do("ada", "GET", "/api/projects", ""); res.status != http.StatusOK {
		t.Errorf("key created on the leader: status %d, want 200 after read index: %s", res.status, res.body)
	}
	if calls != 1 {
		t.Errorf("key created on the leader ran %d read index calls, want 1", calls)
	}

	e.keys["ada"] = NewKey()
	if got := e.do("ada", "GET", "/api/projects", "").status; got != http.StatusUnauthorized {
		t.Errorf("unknown key: status %d, want 401", got)
	}

	b.ReadIndex = func(context.Context) error { return errors.New("no leader") }
	e.srv.SetBackend(b)
	e.keys["ada"] = NewKey()
	if got := e.do("ada", "GET", "/api/projects", "").status; got != http.StatusUnauthorized {
		t.Errorf("unknown key while read index fails: status %d, want 401", got)
	}
	e.keys["ada"] = known
	if got := e.do("ada", "GET", "/api/projects", "").status; got != http.StatusOK {
		t.Errorf("known key while read index fails: status %d, want 200", got)
	}
}
