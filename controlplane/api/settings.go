package api

import (
	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/controlplane/state"
	"github.com/yoloplane/yoloplane/shared/apierr"
)

// settingsView is the caller's profile and preferences.
type settingsView struct {
	Username    string            `json:"username"`
	Email       string            `json:"email,omitempty"`
	FullName    string            `json:"fullName"`
	ImageURL    string            `json:"imageUrl,omitempty"`
	Bio         string            `json:"bio"`
	Company     string            `json:"company"`
	UseCase     string            `json:"useCase"`
	Socials     map[string]string `json:"socials"`
	Preferences map[string]string `json:"preferences"`
	UpdatedAt   string            `json:"updatedAt,omitempty"`
}

// settingsRequest is the body of POST /api/settings. Fields left out keep
// their value. Socials replaces every link; Preferences is merged key by
// key, and an empty value deletes a key.
type settingsRequest struct {
	FullName    *string           `json:"fullName"`
	Bio         *string           `json:"bio"`
	Company     *string           `json:"company"`
	UseCase     *string           `json:"useCase"`
	Socials     map[string]string `json:"socials"`
	Preferences map[string]string `json:"preferences"`
}

func (s *Server) handleGetSettings(ctx *fasthttp.RequestCtx) {
	u := principal(ctx).User
	writeJSON(ctx, fasthttp.StatusOK, s.settingsOf(u, s.fsm.Settings(u.ID)))
}

func (s *Server) handleUpdateSettings(ctx *fasthttp.RequestCtx) {
	var req settingsRequest
	if e := readJSON(ctx, &req, false); e != nil {
		apierr.Write(ctx, e)
		return
	}
	u := principal(ctx).User
	v, e := s.apply(&state.UpdateSettings{UserID: u.ID, FullName: req.FullName, Bio: req.Bio, Company: req.Company,
		UseCase: req.UseCase, Socials: req.Socials, Preferences: req.Preferences, UpdatedAt: s.now()})
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, s.settingsOf(u, v.(state.Settings)))
}

func (s *Server) settingsOf(u state.User, set state.Settings) settingsView {
	v := settingsView{Username: u.Username, Email: u.Email, FullName: displayName(u, set), ImageURL: s.avatarURL(u.ID),
		Bio: set.Bio, Company: set.Company, UseCase: set.UseCase, Socials: set.Socials, Preferences: set.Preferences}
	if v.Socials == nil {
		v.Socials = map[string]string{}
	}
	if v.Preferences == nil {
		v.Preferences = map[string]string{}
	}
	if !set.UpdatedAt.IsZero() {
		v.UpdatedAt = formatTime(set.UpdatedAt)
	}
	return v
}
