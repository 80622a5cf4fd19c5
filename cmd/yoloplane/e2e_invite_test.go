package main

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"mime/multipart"
	"net/http"
	"os/exec"
	"strings"
	"testing"
)

// call sends a request with key (none when key is "") and a JSON body
// (none when body is ""), and decodes a JSON object response.
func (s *server) call(t *testing.T, method, path, key, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, s.baseURL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return decodeResponse(t, method+" "+path, req)
}

func decodeResponse(t *testing.T, name string, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s: status %d, body is not a JSON object: %v", name, resp.StatusCode, err)
	}
	return resp.StatusCode, out
}

// memberRole returns the role of username in a member list, or "".
func memberRole(list map[string]any, username string) string {
	members, _ := list["members"].([]any)
	for _, m := range members {
		if m := m.(map[string]any); m["username"] == username {
			role, _ := m["role"].(string)
			return role
		}
	}
	return ""
}

// TestInviteAndAvatarOnServe invites an email that has no account to a
// team of `yoloplane serve`, creates the account by accepting the invite,
// accepts a second invite with the new account's key, and uploads and
// removes that user's avatar. A restart then checks that the accepted
// invites stay used.
func TestInviteAndAvatarOnServe(t *testing.T) {
	dataDir := t.TempDir()
	s := startServer(t, dataDir)
	for _, team := range []string{"invite-team", "second-team"} {
		if status, body := s.call(t, "POST", "/api/teams/create", s.key, `{"slug":"`+team+`"}`); status != http.StatusCreated {
			t.Fatalf("create team %s: status %d: %v", team, status, body)
		}
	}

	status, created := s.call(t, "POST", "/api/members", s.key, `{"owner":"invite-team","email":"new.person@example.com","role":"editor"}`)
	if status != http.StatusCreated {
		t.Fatalf("invite an unknown email: status %d: %v", status, created)
	}
	token, _ := created["token"].(string)
	inviteURL, _ := created["inviteUrl"].(string)
	if !strings.HasPrefix(inviteURL, s.baseURL+"/api/invites/info?token=") {
		t.Fatalf("inviteUrl %q does not point at this server", inviteURL)
	}
	req, _ := http.NewRequest("GET", inviteURL, nil)
	status, info := decodeResponse(t, "GET inviteUrl", req)
	if status != http.StatusOK {
		t.Fatalf("open the invite URL without a key: status %d: %v", status, info)
	}
	if inv := info["invite"].(map[string]any); inv["role"] != "editor" || inv["workspace"].(map[string]any)["username"] != "invite-team" {
		t.Errorf("invite info = %v, want an editor invite to invite-team", inv)
	}

	status, accepted := s.call(t, "POST", "/api/invites/accept", "", `{"token":"`+token+`","username":"new-person"}`)
	if status != http.StatusCreated {
		t.Fatalf("accept with a new account: status %d: %v", status, accepted)
	}
	newKey, _ := accepted["key"].(string)
	status, list := s.call(t, "GET", "/api/members?owner=invite-team", newKey, "")
	if status != http.StatusOK || memberRole(list, "new-person") != "editor" {
		t.Fatalf("members of invite-team with the new key: status %d: %v, want new-person as editor", status, list)
	}
	if status, body := s.call(t, "POST", "/api/invites/accept", "", `{"token":"`+token+`","username":"someone-else"}`); status != http.StatusGone {
		t.Errorf("accept a used invite: status %d: %v, want 410", status, body)
	}

	secondToken := resendInvite(t, s, "second-team", "other.address@example.com")
	status, joined := s.call(t, "POST", "/api/invites/accept", newKey, `{"token":"`+secondToken+`"}`)
	if status != http.StatusOK {
		t.Fatalf("accept with the new account's key: status %d: %v", status, joined)
	}
	if _, list := s.call(t, "GET", "/api/members?owner=second-team", s.key, ""); memberRole(list, "new-person") != "viewer" {
		t.Errorf("members of second-team = %v, want new-person as viewer", list)
	}

	checkAvatar(t, s, newKey, "invite-team")

	// Kill the server and start it again on the same data: the used
	// invites stay used and the memberships stay.
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s = startServer(t, dataDir)
	if status, body := s.call(t, "POST", "/api/invites/accept", "", `{"token":"`+token+`","username":"someone-else"}`); status != http.StatusGone {
		t.Errorf("accept a used invite after a restart: status %d: %v, want 410", status, body)
	}
	if status, list := s.call(t, "GET", "/api/members?owner=invite-team", newKey, ""); status != http.StatusOK || memberRole(list, "new-person") != "editor" {
		t.Errorf("members of invite-team after a restart: status %d: %v, want new-person as editor", status, list)
	}
}

// resendInvite invites email as a viewer of team, resends the invite and
// checks that only the new token works. It returns the new token.
func resendInvite(t *testing.T, s *server, team, email string) string {
	t.Helper()
	status, created := s.call(t, "POST", "/api/members", s.key, `{"owner":"`+team+`","email":"`+email+`"}`)
	if status != http.StatusCreated {
		t.Fatalf("invite %s: status %d: %v", email, status, created)
	}
	id := created["invite"].(map[string]any)["inviteId"].(string)
	status, resent := s.call(t, "POST", "/api/invites/"+id+"/resend", s.key, "")
	if status != http.StatusOK {
		t.Fatalf("resend invite: status %d: %v", status, resent)
	}
	if status, body := s.call(t, "GET", "/api/invites/info?token="+created["token"].(string), "", ""); status != http.StatusNotFound {
		t.Errorf("info of the replaced token: status %d: %v, want 404", status, body)
	}
	return resent["token"].(string)
}

// checkAvatar uploads an avatar with key, finds it in the settings and in
// the member list of team, fetches it, rejects a non-image and removes it.
func checkAvatar(t *testing.T, s *server, key, team string) {
	t.Helper()
	var img bytes.Buffer
	if err := png.Encode(&img, image.NewGray(image.Rect(0, 0, 24, 24))); err != nil {
		t.Fatal(err)
	}

	if status, body := uploadAvatar(t, s, key, []byte("not an image at all")); status != http.StatusBadRequest {
		t.Errorf("upload a non-image avatar: status %d: %v, want 400", status, body)
	}
	status, up := uploadAvatar(t, s, key, img.Bytes())
	if status != http.StatusOK {
		t.Fatalf("upload avatar: status %d: %v", status, up)
	}

	imageURL, _ := up["imageUrl"].(string)
	if _, settings := s.call(t, "GET", "/api/settings", key, ""); settings["imageUrl"] != imageURL {
		t.Errorf("settings imageUrl = %v, want %s", settings["imageUrl"], imageURL)
	}
	_, list := s.call(t, "GET", "/api/members?owner="+team, s.key, "")
	found := false
	members, _ := list["members"].([]any)
	for _, m := range members {
		found = found || m.(map[string]any)["imageUrl"] == imageURL
	}
	if !found {
		t.Errorf("member list %v has no member with imageUrl %s", list, imageURL)
	}

	got := s.do(t, "GET", imageURL, "", nil, true)
	if got.status != http.StatusOK || !bytes.Equal(got.body, img.Bytes()) {
		t.Errorf("get avatar: status %d, %d bytes; want the uploaded PNG", got.status, len(got.body))
	}

	if status, body := s.call(t, "DELETE", "/api/settings/icon", key, ""); status != http.StatusOK {
		t.Fatalf("remove avatar: status %d: %v", status, body)
	}
	if got := s.do(t, "GET", imageURL, "", nil, true); got.status != http.StatusNotFound {
		t.Errorf("get removed avatar: status %d, want 404", got.status)
	}
}

func uploadAvatar(t *testing.T, s *server, key string, data []byte) (int, map[string]any) {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	fw, err := w.CreateFormFile("file", "avatar.png")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	w.Close()
	req, err := http.NewRequest("POST", s.baseURL+"/api/settings/icon", &body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return decodeResponse(t, "POST /api/settings/icon", req)
}

// TestInviteAndAvatarOnFollowers runs the invite and avatar flows through
// the followers of a three-voter cluster, which forward each write to the
// leader and decode its result.
func TestInviteAndAvatarOnFollowers(t *testing.T) {
	vs, key := startThreeVoters(t)
	n2 := &server{baseURL: "http://" + vs[1].listen, key: key}
	n3 := &server{baseURL: "http://" + vs[2].listen, key: key}
	if status, body := n2.call(t, "POST", "/api/teams/create", key, `{"slug":"voter-team"}`); status != http.StatusCreated {
		t.Fatalf("create team through n2: status %d: %v", status, body)
	}

	token := resendInvite(t, n2, "voter-team", "voter.person@example.com")
	status, accepted := n3.call(t, "POST", "/api/invites/accept", "", `{"token":"`+token+`","username":"voter-person"}`)
	if status != http.StatusCreated {
		t.Fatalf("accept with a new account through n3: status %d: %v", status, accepted)
	}
	newKey, _ := accepted["key"].(string)
	if status, list := n3.call(t, "GET", "/api/members?owner=voter-team", newKey, ""); status != http.StatusOK || memberRole(list, "voter-person") != "viewer" {
		t.Errorf("members of voter-team through n3: status %d: %v, want voter-person as viewer", status, list)
	}
	if status, body := n2.call(t, "POST", "/api/invites/accept", "", `{"token":"`+token+`","username":"someone-else"}`); status != http.StatusGone {
		t.Errorf("accept a used invite through n2: status %d: %v, want 410", status, body)
	}

	checkAvatar(t, n3, newKey, "voter-team")
}

// TestPublicURLInLinks starts serve with --public-url and checks that an
// invite link uses it whatever Host header the request carries, and that
// a URL with a path is refused at startup.
func TestPublicURLInLinks(t *testing.T) {
	s := startServer(t, t.TempDir(), "--public-url", "https://models.example.com/")
	if status, body := s.call(t, "POST", "/api/teams/create", s.key, `{"slug":"link-team"}`); status != http.StatusCreated {
		t.Fatalf("create team: status %d: %v", status, body)
	}
	req, err := http.NewRequest("POST", s.baseURL+"/api/members", strings.NewReader(`{"owner":"link-team","email":"link.person@example.com"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "attacker.test"
	req.Header.Set("Authorization", "Bearer "+s.key)
	req.Header.Set("Content-Type", "application/json")
	status, created := decodeResponse(t, "POST /api/members", req)
	if status != http.StatusCreated {
		t.Fatalf("invite: status %d: %v", status, created)
	}
	if link, _ := created["inviteUrl"].(string); !strings.HasPrefix(link, "https://models.example.com/api/invites/info?token=") {
		t.Errorf("inviteUrl = %q, want it under https://models.example.com", link)
	}

	out, err := exec.Command(buildBinary(t), "serve", "--data", t.TempDir(), "--public-url", "https://models.example.com/app").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--public-url") {
		t.Errorf("serve with a public URL that has a path: err %v, output:\n%s", err, out)
	}
}
