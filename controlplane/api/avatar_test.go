package api

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/yoloplane/yoloplane/internal/contract"
)

func TestAvatarUploadShowsEverywhere(t *testing.T) {
	e := teamEnv(t)
	e.addUser("bob")
	first := pngImage(t, 16, 16)
	up := e.uploadIcon("ada", "/api/settings/icon", first)
	if up.status != http.StatusOK {
		t.Fatalf("upload avatar: status %d: %s", up.status, up.body)
	}
	imageURL := up.json(t)["imageUrl"].(string)
	avatar, ok := e.fsm.UserAvatar(e.users["ada"])
	if !ok || avatar.ContentType != "image/png" || !e.blobs.Has(avatar.SHA256) {
		t.Fatalf("avatar after upload = %+v, %v; want a stored PNG", avatar, ok)
	}
	if got := e.do("ada", "GET", "/api/settings", "").json(t)["imageUrl"]; got != imageURL {
		t.Errorf("settings imageUrl = %v, want %s", got, imageURL)
	}
	profile := e.do("bob", "GET", "/api/users?username=ada", "")
	contract.Validate(t, "PublicUserResponse", profile.body)
	if got := profile.json(t)["user"].(map[string]any)["imageUrl"]; got != imageURL {
		t.Errorf("profile imageUrl = %v, want %s", got, imageURL)
	}
	members := e.do("ada", "GET", "/api/members?owner=acme", "").json(t)["members"].([]any)
	if got := members[0].(map[string]any)["imageUrl"]; got != imageURL {
		t.Errorf("member imageUrl = %v, want %s", got, imageURL)
	}
	img := e.do("bob", "GET", imageURL, "")
	if img.status != http.StatusOK || !bytes.Equal(img.body, first) || string(img.header.ContentType()) != "image/png" {
		t.Errorf("get avatar: status %d, %d bytes, type %s; want the PNG", img.status, len(img.body), img.header.ContentType())
	}
	// Avatars are public, so that pages can load them in <img> tags.
	if anon := e.do("", "GET", imageURL, ""); anon.status != http.StatusOK || !bytes.Equal(anon.body, first) {
		t.Errorf("get avatar without a key: status %d, %d bytes; want the PNG", anon.status, len(anon.body))
	}

	second := pngImage(t, 32, 32)
	replaced := e.uploadIcon("ada", "/api/settings/icon", second).json(t)["imageUrl"].(string)
	if replaced == imageURL {
		t.Errorf("imageUrl did not change with the image: %s", replaced)
	}
	if e.blobs.Has(avatar.SHA256) {
		t.Errorf("replaced avatar's blob is still stored")
	}

	current, _ := e.fsm.UserAvatar(e.users["ada"])
	if res := e.do("ada", "DELETE", "/api/settings/icon", ""); res.status != http.StatusOK {
		t.Fatalf("remove avatar: status %d: %s", res.status, res.body)
	}
	if e.blobs.Has(current.SHA256) {
		t.Errorf("removed avatar's blob is still stored")
	}
	checkError(t, "get removed avatar", e.do("bob", "GET", replaced, ""), http.StatusNotFound, "no avatar")
	if got := e.do("ada", "GET", "/api/settings", "").json(t)["imageUrl"]; got != nil {
		t.Errorf("settings imageUrl after removal = %v, want none", got)
	}
	if res := e.do("ada", "DELETE", "/api/settings/icon", ""); res.status != http.StatusOK {
		t.Errorf("remove a missing avatar: status %d, want 200: %s", res.status, res.body)
	}
}

func TestAvatarUploadRejectsBadImages(t *testing.T) {
	e := newEnv(t)
	e.addUser("ada")
	for _, c := range []struct {
		name   string
		data   []byte
		status int
		hint   string
	}{
		{"text", []byte("hello, not an image"), http.StatusBadRequest, "not a usable image"},
		{"too many pixels", pngImage(t, 5000, 4000), http.StatusBadRequest, "512×512"},
		{"too many bytes", append(pngImage(t, 8, 8), make([]byte, maxIconBytes)...), http.StatusRequestEntityTooLarge, "icon image is larger than"},
		{"body over the form limit", append(pngImage(t, 8, 8), make([]byte, 2*maxIconBytes)...), http.StatusRequestEntityTooLarge, "icon image is larger than"},
	} {
		checkError(t, c.name, e.uploadIcon("ada", "/api/settings/icon", c.data), c.status, c.hint)
	}
	checkError(t, "JSON body", e.do("ada", "POST", "/api/settings/icon", `{}`), http.StatusBadRequest, "multipart/form-data")
	if _, ok := e.fsm.UserAvatar(e.users["ada"]); ok {
		t.Errorf("a rejected upload set an avatar")
	}
	checkError(t, "upload without a key", e.do("", "POST", "/api/settings/icon", `{}`), http.StatusUnauthorized, "API key")
}
