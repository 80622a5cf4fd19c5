package api

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/yoloplane/yoloplane/controlplane/state"
	"github.com/yoloplane/yoloplane/shared/apikey"
	"github.com/yoloplane/yoloplane/shared/ids"
)

// addInvite stores a pending invite of email to a workspace, sent by
// inviter, and returns its ID and token.
func (e *env) addInvite(workspaceID, inviter, email string) (string, string) {
	e.t.Helper()
	token := apikey.NewToken(inviteTokenPrefix)
	inv := e.must(&state.CreateInvite{InviteID: ids.New(), WorkspaceID: workspaceID, Email: email, Role: state.RoleViewer,
		InvitedBy: e.users[inviter], TokenHash: apikey.Hash(token), CreatedAt: e.clock(), ExpiresAt: e.clock().Add(inviteTTL)}).(state.Invite)
	return inv.ID, token
}

// invite sends POST /api/members for email as ada and returns the
// response body, failing the test unless an invite was created.
func (e *env) invite(email, role string) map[string]any {
	e.t.Helper()
	res := e.do("ada", "POST", "http://cp.test/api/members", `{"owner":"acme","email":"`+email+`","role":"`+role+`"}`)
	if res.status != http.StatusCreated {
		e.t.Fatalf("invite %s: status %d: %s", email, res.status, res.body)
	}
	body := res.json(e.t)
	if body["token"] == nil || body["invite"] == nil {
		e.t.Fatalf("invite %s: response %s has no token or invite", email, res.body)
	}
	return body
}

func TestInviteUnknownEmailThenAccept(t *testing.T) {
	e := teamEnv(t)
	created := e.invite("Cy@Example.com", "editor")
	token := created["token"].(string)
	inv := created["invite"].(map[string]any)
	if inv["status"] != "pending" || inv["role"] != "editor" || inv["invitedBy"] != "ada" || inv["expiresAt"] != "2025-03-11T05:06:07.000Z" {
		t.Errorf("created invite = %v, want a pending editor invite by ada that expires in a week", inv)
	}
	if want := "http://cp.test/api/invites/info?token=" + token; created["inviteUrl"] != want {
		t.Errorf("inviteUrl = %v, want %s", created["inviteUrl"], want)
	}
	stored, ok := e.fsm.InviteByID(inv["inviteId"].(string))
	if !ok || stored.TokenHash != apikey.Hash(token) {
		t.Fatalf("stored invite = %+v, %v; want the hash of the token", stored, ok)
	}

	list := e.do("ada", "GET", "/api/members?owner=acme", "")
	if strings.Contains(string(list.body), token) || strings.Contains(string(list.body), stored.TokenHash) {
		t.Errorf("member list shows the token or its hash: %s", list.body)
	}
	invites := list.json(t)["invites"].([]any)
	if len(invites) != 1 || invites[0].(map[string]any)["email"] != "Cy@Example.com" {
		t.Errorf("pending invites = %v, want the invite of Cy@Example.com", invites)
	}
	activity := e.do("ada", "GET", "/api/activity?owner=acme", "")
	if !strings.Contains(string(activity.body), "Invited Cy@Example.com as editor") {
		t.Errorf("activity has no invite event: %s", activity.body)
	}

	info := e.do("", "GET", "/api/invites/info?token="+token, "")
	if info.status != http.StatusOK {
		t.Fatalf("invite info without a key: status %d: %s", info.status, info.body)
	}
	got := info.json(t)["invite"].(map[string]any)
	if got["role"] != "editor" || got["workspace"].(map[string]any)["username"] != "acme" || got["invitedBy"].(map[string]any)["username"] != "ada" {
		t.Errorf("invite info = %v, want an editor invite to acme by ada", got)
	}

	accept := e.do("", "POST", "/api/invites/accept", `{"token":"`+token+`","username":"cy-lee","fullName":"Cy Lee"}`)
	if accept.status != http.StatusCreated {
		t.Fatalf("accept with a new account: status %d: %s", accept.status, accept.body)
	}
	body := accept.json(t)
	e.keys["cy-lee"] = body["key"].(string)
	if m := body["member"].(map[string]any); m["username"] != "cy-lee" || m["role"] != "editor" || m["email"] != "Cy@Example.com" {
		t.Errorf("accepted member = %v, want cy-lee as editor with the invite's email", m)
	}
	members := e.do("cy-lee", "GET", "/api/members?owner=acme", "")
	if members.status != http.StatusOK {
		t.Fatalf("new member lists members: status %d: %s", members.status, members.body)
	}
	if !hasMember(t, members, "cy-lee", "editor") {
		t.Errorf("members = %s, want cy-lee as editor", members.body)
	}
	if invites := members.json(t)["invites"].([]any); len(invites) != 0 {
		t.Errorf("pending invites after accept = %v, want none", invites)
	}
	if got := e.do("cy-lee", "GET", "/api/settings", "").json(t); got["fullName"] != "Cy Lee" || got["username"] != "cy-lee" {
		t.Errorf("settings of the new account = %v", got)
	}
	checkError(t, "second accept", e.do("", "POST", "/api/invites/accept", `{"token":"`+token+`","username":"cy-two"}`), http.StatusGone, "already accepted")
	checkError(t, "info of a used token", e.do("", "GET", "/api/invites/info?token="+token, ""), http.StatusGone, "already accepted")
}

// hasMember reports whether a member list response has username with role.
func hasMember(t *testing.T, res response, username, role string) bool {
	t.Helper()
	for _, m := range res.json(t)["members"].([]any) {
		m := m.(map[string]any)
		if m["username"] == username && m["role"] == role {
			return true
		}
	}
	return false
}

func TestInviteAcceptWithKey(t *testing.T) {
	e := teamEnv(t)
	e.addUser("bob")
	token := e.invite("bob.work@example.com", "viewer")["token"].(string)
	res := e.do("bob", "POST", "/api/invites/accept", `{"token":"`+token+`"}`)
	if res.status != http.StatusOK {
		t.Fatalf("accept with bob's key: status %d: %s", res.status, res.body)
	}
	if team := res.json(t)["team"].(map[string]any); team["username"] != "acme" || team["role"] != "viewer" {
		t.Errorf("team in the accept response = %v, want acme as viewer", team)
	}
	if !hasMember(t, e.do("ada", "GET", "/api/members?owner=acme", ""), "bob", "viewer") {
		t.Errorf("bob is not a viewer of acme after accepting")
	}
	activity := e.do("ada", "GET", "/api/activity?owner=acme", "")
	if !strings.Contains(string(activity.body), "bob joined as viewer from an invite") {
		t.Errorf("activity has no join event: %s", activity.body)
	}
	second := e.invite("bob.home@example.com", "admin")["token"].(string)
	checkError(t, "accept by a member", e.do("bob", "POST", "/api/invites/accept", `{"token":"`+second+`"}`), http.StatusConflict, "already a member")
	e.keys["nobody"] = "ul_" + strings.Repeat("0", 40)
	checkError(t, "accept with an unknown key", e.do("nobody", "POST", "/api/invites/accept", `{"token":"`+second+`"}`), http.StatusUnauthorized, "API key")
}

func TestInviteResendAndRevoke(t *testing.T) {
	e := teamEnv(t)
	created := e.invite("cy@example.com", "viewer")
	id, old := created["invite"].(map[string]any)["inviteId"].(string), created["token"].(string)

	resent := e.do("ada", "POST", "/api/invites/"+id+"/resend", "")
	if resent.status != http.StatusOK {
		t.Fatalf("resend: status %d: %s", resent.status, resent.body)
	}
	fresh := resent.json(t)["token"].(string)
	if fresh == old {
		t.Fatalf("resend kept the old token")
	}
	checkError(t, "info of the replaced token", e.do("", "GET", "/api/invites/info?token="+old, ""), http.StatusNotFound, "resent")
	checkError(t, "accept of the replaced token", e.do("", "POST", "/api/invites/accept", `{"token":"`+old+`","username":"cy-lee"}`), http.StatusNotFound, "resent")
	if got := e.do("", "GET", "/api/invites/info?token="+fresh, "").status; got != http.StatusOK {
		t.Errorf("info of the new token: status %d, want 200", got)
	}

	e.addUser("bob")
	checkError(t, "revoke by a non-member", e.do("bob", "DELETE", "/api/invites/"+id, ""), http.StatusNotFound, "not found")
	if res := e.do("ada", "DELETE", "/api/invites/"+id, ""); res.status != http.StatusOK {
		t.Fatalf("revoke: status %d: %s", res.status, res.body)
	}
	checkError(t, "accept of a revoked invite", e.do("", "POST", "/api/invites/accept", `{"token":"`+fresh+`","username":"cy-lee"}`), http.StatusGone, "revoked")
	checkError(t, "revoke twice", e.do("ada", "DELETE", "/api/invites/"+id, ""), http.StatusGone, "already revoked")
	checkError(t, "resend a revoked invite", e.do("ada", "POST", "/api/invites/"+id+"/resend", ""), http.StatusGone, "already revoked")
	checkError(t, "revoke an unknown invite", e.do("ada", "DELETE", "/api/invites/"+ids.New(), ""), http.StatusNotFound, "GET /api/members")
	if invites := e.do("ada", "GET", "/api/members?owner=acme", "").json(t)["invites"].([]any); len(invites) != 0 {
		t.Errorf("pending invites after revoke = %v, want none", invites)
	}
}

func TestInviteExpiresAndResendRenews(t *testing.T) {
	e := teamEnv(t)
	created := e.invite("cy@example.com", "viewer")
	id, token := created["invite"].(map[string]any)["inviteId"].(string), created["token"].(string)
	e.advance(inviteTTL)

	checkError(t, "info of an expired invite", e.do("", "GET", "/api/invites/info?token="+token, ""), http.StatusGone, "resend")
	checkError(t, "accept of an expired invite", e.do("", "POST", "/api/invites/accept", `{"token":"`+token+`","username":"cy-lee"}`), http.StatusGone, "expired")
	invites := e.do("ada", "GET", "/api/members?owner=acme", "").json(t)["invites"].([]any)
	if len(invites) != 1 || invites[0].(map[string]any)["status"] != "expired" {
		t.Errorf("pending invites = %v, want one expired invite", invites)
	}
	checkError(t, "invite the same email again", e.do("ada", "POST", "/api/members", `{"owner":"acme","email":"cy@example.com"}`), http.StatusConflict, "resend")

	fresh := e.do("ada", "POST", "/api/invites/"+id+"/resend", "").json(t)["token"].(string)
	e.advance(time.Hour)
	if res := e.do("", "POST", "/api/invites/accept", `{"token":"`+fresh+`","username":"cy-lee"}`); res.status != http.StatusCreated {
		t.Errorf("accept after resend: status %d: %s", res.status, res.body)
	}
}

func TestInviteBadInput(t *testing.T) {
	e := teamEnv(t)
	e.addUser("bob")
	e.must(&state.CreateUser{UserID: ids.New(), WorkspaceID: ids.New(), Username: "dee", Email: "dee@example.com", CreatedAt: e.clock()})
	token := e.invite("cy@example.com", "viewer")["token"].(string)

	for _, c := range []struct {
		name, user, method, uri, body string
		status                        int
		hint                          string
	}{
		{"info without token", "", "GET", "/api/invites/info", "", 400, "token is missing"},
		{"info with a malformed token", "", "GET", "/api/invites/info?token=abc", "", 400, "inv_ followed by 40 hex"},
		{"info with an API key as token", "", "GET", "/api/invites/info?token=" + e.keys["ada"], "", 400, "inv_ followed by 40 hex"},
		{"info with an unknown token", "", "GET", "/api/invites/info?token=" + apikey.NewToken(inviteTokenPrefix), "", 404, "no invite has this token"},
		{"accept without body", "", "POST", "/api/invites/accept", "", 400, "request body is missing"},
		{"accept without token", "", "POST", "/api/invites/accept", `{"username":"cy-lee"}`, 400, "token is missing"},
		{"accept without key or username", "", "POST", "/api/invites/accept", `{"token":"` + token + `"}`, 401, "username is missing"},
		{"accept with an invalid username", "", "POST", "/api/invites/accept", `{"token":"` + token + `","username":"Cy Lee"}`, 400, "lowercase letters"},
		{"accept with a taken username", "", "POST", "/api/invites/accept", `{"token":"` + token + `","username":"acme"}`, 409, "choose another"},
		{"accept with a long full name", "", "POST", "/api/invites/accept", `{"token":"` + token + `","username":"cy-lee","fullName":"` + strings.Repeat("x", 101) + `"}`, 400, "display name"},
		{"invite with a bad role", "ada", "POST", "/api/members", `{"owner":"acme","email":"eve@example.com","role":"owner"}`, 400, "use viewer, editor or admin"},
		{"invite with a bad email", "ada", "POST", "/api/members", `{"owner":"acme","email":"eve.example.com"}`, 400, "name@domain"},
		{"invite to a personal workspace", "ada", "POST", "/api/members", `{"owner":"ada","email":"eve@example.com"}`, 400, "create a team workspace"},
		{"invite to another workspace", "bob", "POST", "/api/members", `{"owner":"acme","email":"eve@example.com"}`, 404, "check the owner name"},
		{"invite to an unknown workspace", "ada", "POST", "/api/members", `{"owner":"nowhere","email":"eve@example.com"}`, 404, "check the owner name"},
		{"add an unknown username", "ada", "POST", "/api/members", `{"owner":"acme","username":"nobody"}`, 404, "invite the person by email"},
	} {
		checkError(t, c.name, e.do(c.user, c.method, c.uri, c.body), c.status, c.hint)
	}

	// An email with an account joins at once, without an invite.
	res := e.do("ada", "POST", "/api/members", `{"owner":"acme","email":"DEE@example.com","role":"editor"}`)
	if res.status != http.StatusCreated || res.json(t)["member"] == nil {
		t.Errorf("add a registered email: status %d: %s, want a member", res.status, res.body)
	}

	// The account of the invite's email exists now, so the accept must
	// use its key.
	deeToken := e.addInviteFor(t, "acme", "dee.other@example.com")
	e.must(&state.CreateUser{UserID: ids.New(), WorkspaceID: ids.New(), Username: "dee-other", Email: "dee.other@example.com", CreatedAt: e.clock()})
	checkError(t, "new account for a registered email", e.do("", "POST", "/api/invites/accept", `{"token":"`+deeToken+`","username":"dee-two"}`), http.StatusConflict, "send its API key")
}

// addInviteFor invites email to a team through the API as ada and returns
// the token.
func (e *env) addInviteFor(t *testing.T, team, email string) string {
	t.Helper()
	res := e.do("ada", "POST", "/api/members", `{"owner":"`+team+`","email":"`+email+`"}`)
	if res.status != http.StatusCreated {
		t.Fatalf("invite %s: status %d: %s", email, res.status, res.body)
	}
	return res.json(t)["token"].(string)
}

// TestInviteTokenWaitsForReadIndex models a follower that has not yet
// applied the creation of an invite: its token must work once ReadIndex
// brings the state up to date, not get 404.
func TestInviteTokenWaitsForReadIndex(t *testing.T) {
	e := teamEnv(t)
	late := apikey.NewToken(inviteTokenPrefix)
	calls := 0
	b := e.srv.backend
	b.ReadIndex = func(context.Context) error {
		calls++
		if calls == 1 {
			e.must(&state.CreateInvite{InviteID: ids.New(), WorkspaceID: e.workspace("acme").ID, Email: "cy@example.com",
				Role: state.RoleViewer, InvitedBy: e.users["ada"], TokenHash: apikey.Hash(late), CreatedAt: e.clock(),
				ExpiresAt: e.clock().Add(inviteTTL)})
		}
		return nil
	}
	e.srv.SetBackend(b)

	if res := e.do("", "GET", "/api/invites/info?token="+late, ""); res.status != http.StatusOK {
		t.Errorf("invite created on the leader: status %d, want 200 after read index: %s", res.status, res.body)
	}
	if calls != 1 {
		t.Errorf("invite created on the leader ran %d read index calls, want 1", calls)
	}
	checkError(t, "unknown token", e.do("", "GET", "/api/invites/info?token="+apikey.NewToken(inviteTokenPrefix), ""), http.StatusNotFound, "no invite has this token")
	if calls != 2 {
		t.Errorf("unknown token ran %d read index calls in total, want 2", calls)
	}
}
