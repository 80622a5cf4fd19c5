package api

import (
	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/controlplane/state"
	"github.com/yoloplane/yoloplane/shared/apierr"
)

// avatarVersionLen is how many hex digits of the image hash go into an
// avatar URL, so that a client cache fetches a changed avatar at once
// instead of after the max-age of the old one.
const avatarVersionLen = 12

// avatarURL is the path of a user's avatar, or "" when the user has none.
func (s *Server) avatarURL(userID string) string {
	avatar, ok := s.fsm.UserAvatar(userID)
	if !ok {
		return ""
	}
	return "/api/users/" + userID + "/icon?v=" + avatar.SHA256[:avatarVersionLen]
}

// handleUploadAvatar stores the uploaded image as the caller's avatar, with
// the checks and limits of project icons.
func (s *Server) handleUploadAvatar(ctx *fasthttp.RequestCtx) {
	u := principal(ctx).User
	setAvatar := func(img storedImage) state.Command {
		return &state.SetUserAvatar{Avatar: state.UserAvatar{UserID: u.ID, SHA256: img.SHA256,
			ContentType: img.ContentType, Size: img.Size, UpdatedAt: s.now()}}
	}
	if e := s.replaceImage(ctx, setAvatar, previousAvatar, "user_id", u.ID); e != nil {
		apierr.Write(ctx, e)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"success": true, "imageUrl": s.avatarURL(u.ID)})
}

// handleRemoveAvatar removes the caller's avatar. Removing a missing avatar
// succeeds, so that a retried request does not fail.
func (s *Server) handleRemoveAvatar(ctx *fasthttp.RequestCtx) {
	u := principal(ctx).User
	v, e := s.apply(&state.SetUserAvatar{Avatar: state.UserAvatar{UserID: u.ID, UpdatedAt: s.now()}})
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	s.dropUnreferenced(previousAvatar(v))
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"success": true})
}

// previousAvatar returns the blob hash that a SetUserAvatar result names as
// replaced or removed.
func previousAvatar(v any) string { return v.(state.AvatarChange).Previous }

// handleGetAvatar sends a user's avatar. Profiles are public, so any
// authenticated caller may fetch it.
func (s *Server) handleGetAvatar(ctx *fasthttp.RequestCtx) {
	userID, _ := ctx.UserValue("userId").(string)
	avatar, ok := s.fsm.UserAvatar(userID)
	if !ok || s.backend.Blobs == nil {
		apierr.Write(ctx, apierr.NotFound("user %q has no avatar", userID))
		return
	}
	s.serveImage(ctx, avatar.SHA256, avatar.ContentType)
}
