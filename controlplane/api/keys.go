package api

import (
	"github.com/yoloplane/yoloplane/shared/apikey"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/controlplane/state"
	"github.com/yoloplane/yoloplane/shared/apierr"
	"github.com/yoloplane/yoloplane/shared/ids"
)

// keyView is an API key as the list shows it: never the key itself.
type keyView struct {
	KeyID     string `json:"keyId"`
	Name      string `json:"name"`
	KeyPrefix string `json:"keyPrefix"`
	CreatedAt string `json:"createdAt"`
}

// NewKey returns a new API key: "ul_" and 40 hex characters from
// crypto/rand.
func NewKey() string { return apikey.New() }

// handleListKeys lists the caller's active keys in the selected workspace.
func (s *Server) handleListKeys(ctx *fasthttp.RequestCtx) {
	ws, err := s.workspaceFor(ctx, "GET /api/api-keys", string(ctx.QueryArgs().Peek("owner")))
	if err != nil {
		apierr.Write(ctx, err)
		return
	}
	views := []keyView{}
	for _, k := range s.fsm.KeysOf(principal(ctx).User.ID) {
		if k.Revoked || k.WorkspaceID != ws.ID {
			continue
		}
		views = append(views, keyView{KeyID: k.ID, Name: k.Name, KeyPrefix: k.Prefix, CreatedAt: formatTime(k.CreatedAt)})
	}
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"keys": views})
}

// handleCreateKey creates a key for the caller and returns it in full, the
// only time it is shown. The state keeps its SHA-256 and prefix.
func (s *Server) handleCreateKey(ctx *fasthttp.RequestCtx) {
	var req struct {
		Name  string `json:"name"`
		Owner string `json:"owner"`
	}
	if err := readJSON(ctx, &req, true); err != nil {
		apierr.Write(ctx, err)
		return
	}
	ws, e := s.workspaceFor(ctx, "POST /api/api-keys", req.Owner)
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	key := NewKey()
	cmd := &state.CreateAPIKey{
		KeyID: ids.New(), Name: req.Name, UserID: principal(ctx).User.ID, WorkspaceID: ws.ID,
		Hash: HashKey(key), Prefix: key[:7], CreatedAt: s.now(),
	}
	label := keyLabel(state.APIKey{ID: cmd.KeyID, Name: cmd.Name, Prefix: cmd.Prefix})
	v, e := s.applyRecorded(ctx, cmd, ws.ID, "created", "apiKey", cmd.KeyID, "Created API key "+label)
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	k := v.(state.APIKey)
	writeJSON(ctx, fasthttp.StatusCreated, map[string]any{
		"keyId": k.ID, "name": k.Name, "key": key, "keyPrefix": k.Prefix, "createdAt": formatTime(k.CreatedAt),
	})
}

// handleDeleteKey revokes one of the caller's keys. Requests with it fail
// from the moment the revocation is applied.
func (s *Server) handleDeleteKey(ctx *fasthttp.RequestCtx) {
	var req struct {
		KeyID string `json:"keyId"`
	}
	if err := readJSON(ctx, &req, false); err != nil {
		apierr.Write(ctx, err)
		return
	}
	notFound := apierr.NotFound("API key %q not found: list your keys with GET /api/api-keys", req.KeyID)
	k, ok := s.fsm.KeyByID(req.KeyID)
	if !ok || k.Revoked || k.UserID != principal(ctx).User.ID {
		apierr.Write(ctx, notFound)
		return
	}
	if e := s.authorize(ctx, "DELETE /api/api-keys", k.WorkspaceID, notFound); e != nil {
		apierr.Write(ctx, e)
		return
	}
	if !s.hasOtherPersonalKey(k) {
		// Without a key of the personal workspace the user could not call
		// the API again; on a self-hosted server nobody could issue one.
		apierr.Write(ctx, apierr.New(fasthttp.StatusConflict, apierr.CodeConflict,
			"API key %s is your last active key of your personal workspace: create another key with POST /api/api-keys before revoking this one", k.Prefix))
		return
	}
	cmd := &state.RevokeAPIKey{KeyID: k.ID, RevokedAt: s.now()}
	if _, e := s.applyRecorded(ctx, cmd, k.WorkspaceID, "deleted", "apiKey", k.ID, "Revoked API key "+keyLabel(k)); e != nil {
		apierr.Write(ctx, e)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"success": true})
}

func keyLabel(k state.APIKey) string {
	if k.Name == "" {
		return k.Prefix + "..."
	}
	return k.Name + " (" + k.Prefix + "...)"
}

// hasOtherPersonalKey reports whether revoking k leaves its user another
// active key of the user's personal workspace. Keys of team workspaces
// never lock the user out, so revoking them is always allowed.
func (s *Server) hasOtherPersonalKey(k state.APIKey) bool {
	if ws, ok := s.fsm.WorkspaceByID(k.WorkspaceID); !ok || !ws.Personal {
		return true
	}
	for _, other := range s.fsm.KeysOf(k.UserID) {
		if other.ID != k.ID && !other.Revoked && other.WorkspaceID == k.WorkspaceID {
			return true
		}
	}
	return false
}
