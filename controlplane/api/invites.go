package api

import (
	"net/url"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/controlplane/state"
	"github.com/yoloplane/yoloplane/shared/apierr"
	"github.com/yoloplane/yoloplane/shared/apikey"
	"github.com/yoloplane/yoloplane/shared/ids"
)

// inviteTokenPrefix starts every invite token, and 40 hex characters
// follow it. It differs from KeyPrefix so that a token is never taken for
// a key.
const inviteTokenPrefix = "inv_"

// inviteTTL is how long an invite token works. A week covers an invitee who
// is away for a few days. An admin who resends the invite starts a new week.
const inviteTTL = 7 * 24 * time.Hour

// inviteView is an invite as member lists and invite responses show it,
// without its token. Status is pending, expired, accepted or revoked.
type inviteView struct {
	InviteID  string `json:"inviteId"`
	Email     string `json:"email"`
	Role      string `json:"role"`
	Status    string `json:"status"`
	InvitedBy string `json:"invitedBy"` // username
	CreatedAt string `json:"createdAt"`
	ExpiresAt string `json:"expiresAt"`
}

func (s *Server) inviteView(inv state.Invite) inviteView {
	v := inviteView{InviteID: inv.ID, Email: inv.Email, Role: string(inv.Role), Status: inv.Status,
		CreatedAt: formatTime(inv.CreatedAt), ExpiresAt: formatTime(inv.ExpiresAt)}
	if inv.Status == state.InvitePending && inv.ExpiredAt(s.now()) {
		v.Status = "expired"
	}
	if u, ok := s.fsm.UserByID(inv.InvitedBy); ok {
		v.InvitedBy = u.Username
	}
	return v
}

// pendingInviteViews lists the pending invites of a workspace, expired
// ones included, so that an admin can tell which invites to resend.
func (s *Server) pendingInviteViews(workspaceID string) []inviteView {
	views := []inviteView{}
	for _, inv := range s.fsm.PendingInvites(workspaceID) {
		views = append(views, s.inviteView(inv))
	}
	return views
}

// newInviteToken returns a token, its stored hash and the URL that shows
// the invite. There is no mail server, so the admin passes the URL on.
func (s *Server) newInviteToken(ctx *fasthttp.RequestCtx) (token, hash, inviteURL string) {
	token = apikey.NewToken(inviteTokenPrefix)
	inviteURL = s.baseURL(ctx) + "/api/invites/info?token=" + url.QueryEscape(token)
	return token, apikey.Hash(token), inviteURL
}

// createInvite invites an email without an account to ws. The response
// carries the token, the only time it is shown.
func (s *Server) createInvite(ctx *fasthttp.RequestCtx, ws state.Workspace, email string, role state.Role) {
	if err := state.ValidateEmail(email); err != nil {
		apierr.Write(ctx, apierr.Validation("%s", stateMessage(err)))
		return
	}
	token, hash, inviteURL := s.newInviteToken(ctx)
	now := s.now()
	cmd := &state.CreateInvite{InviteID: ids.New(), WorkspaceID: ws.ID, Email: email, Role: role,
		InvitedBy: principal(ctx).User.ID, TokenHash: hash, CreatedAt: now, ExpiresAt: now.Add(inviteTTL)}
	v, e := s.applyRecorded(ctx, cmd, ws.ID, "created", "invite", cmd.InviteID, "Invited "+email+" as "+string(role))
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	writeJSON(ctx, fasthttp.StatusCreated, map[string]any{
		"success": true, "invite": s.inviteView(v.(state.Invite)), "token": token, "inviteUrl": inviteURL,
	})
}

// handleInviteInfo describes the invite of a token: who sent it, to which
// workspace, with which role and until when. The token authorizes the
// request, so the invitee needs no account.
func (s *Server) handleInviteInfo(ctx *fasthttp.RequestCtx) {
	inv, e := s.usableInvite(string(ctx.QueryArgs().Peek("token")), "query parameter")
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	ws, _ := s.fsm.WorkspaceByID(inv.WorkspaceID)
	inviter := map[string]any{}
	if u, ok := s.fsm.UserByID(inv.InvitedBy); ok {
		inviter["username"], inviter["fullName"] = u.Username, displayName(u, s.fsm.Settings(u.ID))
		if image := s.avatarURL(u.ID); image != "" {
			inviter["imageUrl"] = image
		}
	}
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"invite": map[string]any{
		"inviteId": inv.ID, "email": inv.Email, "role": string(inv.Role), "status": inv.Status,
		"createdAt": formatTime(inv.CreatedAt), "expiresAt": formatTime(inv.ExpiresAt),
		"workspace": map[string]any{"id": ws.ID, "username": ws.Slug, "name": ws.Name},
		"invitedBy": inviter,
	}})
}

// usableInvite returns the invite of token when it can still be accepted.
// field names where the request carries the token, for error messages.
func (s *Server) usableInvite(token, field string) (state.Invite, *apierr.Error) {
	token = strings.ToLower(strings.TrimSpace(token))
	if token == "" {
		return state.Invite{}, apierr.Validation("token is missing: send the invite token as the %s token", field)
	}
	if !apikey.ValidToken([]byte(token), inviteTokenPrefix) {
		return state.Invite{}, apierr.Validation("token is invalid: invite tokens are %s followed by 40 hex characters; copy the whole token from the invite URL", inviteTokenPrefix)
	}
	hash := apikey.Hash(token)
	inv, ok := s.fsm.InviteByTokenHash(hash)
	if !ok && s.catchUp("invite token") {
		inv, ok = s.fsm.InviteByTokenHash(hash)
	}
	if !ok {
		return state.Invite{}, apierr.NotFound("no invite has this token: check that it was copied whole, and ask for the newest invite URL if the invite was resent")
	}
	ws, _ := s.fsm.WorkspaceByID(inv.WorkspaceID)
	goneError := func(format string, args ...any) *apierr.Error {
		return apierr.New(fasthttp.StatusGone, apierr.CodeGone, format, args...)
	}
	switch {
	case inv.Status == state.InviteAccepted:
		return state.Invite{}, goneError("the invite to %s was already accepted: sign in with the account that accepted it", ws.Slug)
	case inv.Status == state.InviteRevoked:
		return state.Invite{}, goneError("the invite to %s was revoked: ask an admin of %s for a new invite", ws.Slug, ws.Slug)
	case inv.ExpiredAt(s.now()):
		return state.Invite{}, goneError("the invite to %s expired at %s: ask an admin of %s to resend it", ws.Slug, formatTime(inv.ExpiresAt), ws.Slug)
	}
	return inv, nil
}

// acceptRequest is the body of POST /api/invites/accept. Username and
// FullName name the account that an accept without an API key creates, and
// are ignored when the request has a key.
type acceptRequest struct {
	Token    string `json:"token"`
	Username string `json:"username"`
	FullName string `json:"fullName"`
}

// handleAcceptInvite joins the invite's workspace with the invite's role.
// A caller with an API key joins as that key's user. A caller without one
// gets a new account with the invite's email, the username of the request
// and a first API key, shown once in the response. The token is the
// credential in both cases: there is no mail server that could prove who
// owns the email.
func (s *Server) handleAcceptInvite(ctx *fasthttp.RequestCtx) {
	var req acceptRequest
	if e := readJSON(ctx, &req, false); e != nil {
		apierr.Write(ctx, e)
		return
	}
	inv, e := s.usableInvite(req.Token, "JSON field")
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	if p := principal(ctx); p != nil {
		s.acceptAsCaller(ctx, inv, p.User)
		return
	}
	s.acceptWithNewAccount(ctx, inv, req)
}

func (s *Server) acceptAsCaller(ctx *fasthttp.RequestCtx, inv state.Invite, u state.User) {
	if _, ok := s.fsm.Member(inv.WorkspaceID, u.ID); ok {
		ws, _ := s.fsm.WorkspaceByID(inv.WorkspaceID)
		apierr.Write(ctx, apierr.New(fasthttp.StatusConflict, apierr.CodeConflict,
			"you are already a member of %s: the invite is for someone who is not", ws.Slug))
		return
	}
	cmd := &state.AcceptInvite{TokenHash: inv.TokenHash, UserID: u.ID, At: s.now()}
	v, e := s.applyAccept(cmd, inv, u.Username)
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, s.acceptedBody(v))
}

func (s *Server) acceptWithNewAccount(ctx *fasthttp.RequestCtx, inv state.Invite, req acceptRequest) {
	if e := s.checkNewAccount(inv, req.Username); e != nil {
		apierr.Write(ctx, e)
		return
	}
	now := s.now()
	userID, wsID, key := ids.New(), ids.New(), NewKey()
	cmd := &state.AcceptInvite{TokenHash: inv.TokenHash, UserID: userID, At: now,
		NewUser: &state.CreateUser{UserID: userID, WorkspaceID: wsID, Username: req.Username, Email: inv.Email,
			DisplayName: req.FullName, CreatedAt: now},
		NewKey: &state.CreateAPIKey{KeyID: ids.New(), Name: "first key", UserID: userID, WorkspaceID: wsID,
			Hash: HashKey(key), Prefix: key[:7], CreatedAt: now},
	}
	v, e := s.applyAccept(cmd, inv, req.Username)
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	body := s.acceptedBody(v)
	body["user"] = map[string]any{"userId": userID, "username": req.Username, "email": inv.Email}
	body["key"], body["keyPrefix"] = key, key[:7]
	writeJSON(ctx, fasthttp.StatusCreated, body)
}

// checkNewAccount returns why an account for the invite's email cannot be
// created with username, or nil when it can.
func (s *Server) checkNewAccount(inv state.Invite, username string) *apierr.Error {
	if username == "" {
		return apierr.Unauthorized("username is missing: send your API key in the Authorization header to join as yourself, or a username for a new account")
	}
	if problem := usernameProblem(username); problem != "" {
		return apierr.Validation("username %q is invalid: %s", username, problem)
	}
	if s.usernameTaken(username) {
		return apierr.New(fasthttp.StatusConflict, apierr.CodeConflict, "username %q is taken: choose another", username)
	}
	if _, ok := s.fsm.UserByEmail(inv.Email); ok {
		return apierr.New(fasthttp.StatusConflict, apierr.CodeConflict,
			"an account with the email %s already exists: send its API key in the Authorization header to accept", inv.Email)
	}
	return nil
}

// applyAccept proposes cmd with the activity event of the join in one
// entry. The event names the joining user, who may have no account until
// the entry is applied.
func (s *Server) applyAccept(cmd *state.AcceptInvite, inv state.Invite, username string) (state.AcceptedInvite, *apierr.Error) {
	v, e := s.apply(&state.WithEvent{Command: cmd, Event: state.Event{
		ID: ids.New(), WorkspaceID: inv.WorkspaceID, UserID: cmd.UserID, Action: "added", ResourceType: "member",
		ResourceID: cmd.UserID, Message: username + " joined as " + string(inv.Role) + " from an invite", CreatedAt: cmd.At,
	}})
	if e != nil {
		return state.AcceptedInvite{}, e
	}
	return v.(state.AcceptedInvite), nil
}

func (s *Server) acceptedBody(a state.AcceptedInvite) map[string]any {
	ws, _ := s.fsm.WorkspaceByID(a.Member.WorkspaceID)
	return map[string]any{"success": true, "member": s.memberView(a.Member), "team": s.teamView(ws, a.Member.UserID)}
}

// handleRevokeInvite revokes a pending invite, so that its token stops
// working.
func (s *Server) handleRevokeInvite(ctx *fasthttp.RequestCtx) {
	inv, e := s.inviteTarget(ctx, "DELETE /api/invites/{inviteId}")
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	cmd := &state.RevokeInvite{InviteID: inv.ID, RevokedAt: s.now()}
	if _, e := s.applyRecorded(ctx, cmd, inv.WorkspaceID, "deleted", "invite", inv.ID, "Revoked the invite of "+inv.Email); e != nil {
		apierr.Write(ctx, e)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"success": true})
}

// handleResendInvite gives a pending invite, expired or not, a new token
// and a new expiry. The old token stops working.
func (s *Server) handleResendInvite(ctx *fasthttp.RequestCtx) {
	inv, e := s.inviteTarget(ctx, "POST /api/invites/{inviteId}/resend")
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	token, hash, inviteURL := s.newInviteToken(ctx)
	now := s.now()
	cmd := &state.ResendInvite{InviteID: inv.ID, TokenHash: hash, SentAt: now, ExpiresAt: now.Add(inviteTTL)}
	v, e := s.applyRecorded(ctx, cmd, inv.WorkspaceID, "updated", "invite", inv.ID, "Resent the invite of "+inv.Email)
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{
		"success": true, "invite": s.inviteView(v.(state.Invite)), "token": token, "inviteUrl": inviteURL,
	})
}

// inviteTarget returns the invite of the path after authorizing r in its
// workspace. A caller who is not a member gets the 404 of a missing invite.
func (s *Server) inviteTarget(ctx *fasthttp.RequestCtx, r route) (state.Invite, *apierr.Error) {
	id, _ := ctx.UserValue("inviteId").(string)
	notFound := apierr.NotFound("invite %q not found: list the pending invites of a team with GET /api/members?owner=TEAM", id)
	inv, ok := s.fsm.InviteByID(id)
	if !ok {
		return state.Invite{}, notFound
	}
	if e := s.authorize(ctx, r, inv.WorkspaceID, notFound); e != nil {
		return state.Invite{}, e
	}
	return inv, nil
}
