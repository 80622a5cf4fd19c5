package state

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// Commands and the snapshot record of team invites, which belong to the
// account features (numbers 21 to 39).
//
// TODO: controlplane/cluster has no result decoders for commands 25 to 29
// and no wire kind for ErrGone yet. Until it does, an invite or avatar
// write that a follower forwards to the leader gets a 500: its result
// arrives as raw JSON and a gone error as an untyped one.
const (
	CmdCreateInvite CommandType = 25
	CmdRevokeInvite CommandType = 26
	CmdAcceptInvite CommandType = 27
	CmdResendInvite CommandType = 28
)

const RecordInvite RecordType = 25

// Invite statuses. A pending invite whose ExpiresAt has passed can be
// resent but not accepted.
const (
	InvitePending  = "pending"
	InviteAccepted = "accepted"
	InviteRevoked  = "revoked"
)

// Invite offers a role in a team workspace to an email address that has no
// account in the workspace yet. The token that accepts it is never stored:
// TokenHash is the lowercase hex SHA-256 of the token. Accepted and revoked
// invites are kept, so that their tokens get a precise error.
//
// NOTE: closed invites are never deleted, so the table grows with every
// invite ever sent. That is fine at the rate people join teams.
type Invite struct {
	ID          string    `json:"id"`
	WorkspaceID string    `json:"workspaceId"`
	Email       string    `json:"email"`
	Role        Role      `json:"role"`
	InvitedBy   string    `json:"invitedBy"` // user ID
	TokenHash   string    `json:"tokenHash"`
	Status      string    `json:"status"`
	CreatedAt   time.Time `json:"createdAt"`
	SentAt      time.Time `json:"sentAt"` // creation or the last resend
	ExpiresAt   time.Time `json:"expiresAt"`
	AcceptedBy  string    `json:"acceptedBy,omitempty"` // user ID
	ClosedAt    time.Time `json:"closedAt,omitzero"`    // when accepted or revoked
}

// ExpiredAt reports whether a pending invite can no longer be accepted at
// time at.
func (i Invite) ExpiredAt(at time.Time) bool { return !at.Before(i.ExpiresAt) }

// CreateInvite stores a pending invite. The proposer generates the token,
// shows it once and sends only its hash.
type CreateInvite struct {
	InviteID    string    `json:"inviteId"`
	WorkspaceID string    `json:"workspaceId"`
	Email       string    `json:"email"`
	Role        Role      `json:"role"`
	InvitedBy   string    `json:"invitedBy"`
	TokenHash   string    `json:"tokenHash"`
	CreatedAt   time.Time `json:"createdAt"`
	ExpiresAt   time.Time `json:"expiresAt"`
}

// RevokeInvite closes a pending invite so that its token stops working.
type RevokeInvite struct {
	InviteID  string    `json:"inviteId"`
	RevokedAt time.Time `json:"revokedAt"`
}

// ResendInvite gives a pending invite, expired or not, a new token and a
// new expiry. The old token stops working.
type ResendInvite struct {
	InviteID  string    `json:"inviteId"`
	TokenHash string    `json:"tokenHash"`
	SentAt    time.Time `json:"sentAt"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// AcceptInvite makes UserID a member of the invite's workspace with the
// invite's role and closes the invite. The invite is named by its token
// hash, so an accept that races a resend fails instead of using the
// replaced token.
//
// When NewUser is set, the same entry first creates that account with the
// invite's email and NewKey as its first API key, so that a person without
// an account ends up with one that can sign in. UserID is then
// NewUser.UserID, and NewKey belongs to the new personal workspace.
type AcceptInvite struct {
	TokenHash string        `json:"tokenHash"`
	UserID    string        `json:"userId"`
	NewUser   *CreateUser   `json:"newUser,omitempty"`
	NewKey    *CreateAPIKey `json:"newKey,omitempty"`
	At        time.Time     `json:"at"`
}

// AcceptedInvite is the result of AcceptInvite. Account and Key are set
// when the entry created the account.
type AcceptedInvite struct {
	Invite  Invite       `json:"invite"`
	Member  Member       `json:"member"`
	Account *CreatedUser `json:"account,omitempty"`
	Key     *APIKey      `json:"key,omitempty"`
}

func (*CreateInvite) CommandType() CommandType { return CmdCreateInvite }
func (*RevokeInvite) CommandType() CommandType { return CmdRevokeInvite }
func (*AcceptInvite) CommandType() CommandType { return CmdAcceptInvite }
func (*ResendInvite) CommandType() CommandType { return CmdResendInvite }

func (c *CreateInvite) validate() error {
	for _, f := range []struct{ name, id string }{{"invite ID", c.InviteID}, {"workspace ID", c.WorkspaceID}, {"inviter ID", c.InvitedBy}} {
		if err := validateID(f.name, f.id); err != nil {
			return err
		}
	}
	if c.Email == "" {
		return fmt.Errorf("%w: invite email is missing", ErrInvalid)
	}
	if err := validateEmail(c.Email); err != nil {
		return err
	}
	if err := validateRole(c.Role); err != nil {
		return err
	}
	if err := validateHex64("invite token hash", c.TokenHash); err != nil {
		return err
	}
	return validateExpiry(c.CreatedAt, c.ExpiresAt)
}

func validateExpiry(sent, expires time.Time) error {
	if err := validateTime("invite time", sent); err != nil {
		return err
	}
	if !expires.After(sent) {
		return fmt.Errorf("%w: invite expiry %s must be after %s", ErrInvalid, expires.UTC().Format(time.RFC3339), sent.UTC().Format(time.RFC3339))
	}
	return nil
}

func (t *tables) applyCreateInvite(c *CreateInvite) (Invite, error) {
	if err := c.validate(); err != nil {
		return Invite{}, err
	}
	if _, ok := t.account.Invites[c.InviteID]; ok {
		return Invite{}, fmt.Errorf("%w: invite ID %q already exists", ErrConflict, c.InviteID)
	}
	if _, ok := t.account.InviteByToken[c.TokenHash]; ok {
		return Invite{}, fmt.Errorf("%w: an invite with this token hash already exists", ErrConflict)
	}
	if err := t.checkInviteTarget(c.WorkspaceID, c.Email); err != nil {
		return Invite{}, err
	}
	if _, ok := t.users[c.InvitedBy]; !ok {
		return Invite{}, fmt.Errorf("%w: user %q", ErrNotFound, c.InvitedBy)
	}
	inv := Invite{
		ID: c.InviteID, WorkspaceID: c.WorkspaceID, Email: c.Email, Role: c.Role, InvitedBy: c.InvitedBy,
		TokenHash: c.TokenHash, Status: InvitePending, CreatedAt: c.CreatedAt.UTC(), SentAt: c.CreatedAt.UTC(),
		ExpiresAt: c.ExpiresAt.UTC(),
	}
	t.account.putInvite(inv)
	return inv, nil
}

// checkInviteTarget rejects an invite to a personal workspace, to a member,
// or to an email that already has a pending invite there.
func (t *tables) checkInviteTarget(workspaceID, email string) error {
	w, ok := t.workspaces[workspaceID]
	if !ok {
		return fmt.Errorf("%w: workspace %q", ErrNotFound, workspaceID)
	}
	if w.Personal {
		return fmt.Errorf("%w: workspace %q is personal and has no other members: create a team workspace", ErrInvalid, w.Slug)
	}
	if userID, ok := t.userByEmail[normalizeEmail(email)]; ok {
		if _, member := t.members[workspaceID][userID]; member {
			return fmt.Errorf("%w: %s is already a member of workspace %q", ErrConflict, email, w.Slug)
		}
	}
	for id := range t.account.InvitesOfWS[workspaceID] {
		inv := t.account.Invites[id]
		if inv.Status == InvitePending && normalizeEmail(inv.Email) == normalizeEmail(email) {
			return fmt.Errorf("%w: %s already has invite %s to workspace %q: resend it instead", ErrConflict, email, inv.ID, w.Slug)
		}
	}
	return nil
}

// pendingInvite returns the invite with the given ID when it is pending.
func (t *tables) pendingInvite(id string) (Invite, error) {
	inv, ok := t.account.Invites[id]
	if !ok {
		return Invite{}, fmt.Errorf("%w: invite %q", ErrNotFound, id)
	}
	if inv.Status != InvitePending {
		return Invite{}, fmt.Errorf("%w: invite %s was already %s", ErrGone, id, inv.Status)
	}
	return inv, nil
}

func (t *tables) applyRevokeInvite(c *RevokeInvite) (Invite, error) {
	if err := validateID("invite ID", c.InviteID); err != nil {
		return Invite{}, err
	}
	if err := validateTime("revoked time", c.RevokedAt); err != nil {
		return Invite{}, err
	}
	inv, err := t.pendingInvite(c.InviteID)
	if err != nil {
		return Invite{}, err
	}
	inv.Status, inv.ClosedAt = InviteRevoked, c.RevokedAt.UTC()
	t.account.putInvite(inv)
	return inv, nil
}

func (t *tables) applyResendInvite(c *ResendInvite) (Invite, error) {
	if err := validateID("invite ID", c.InviteID); err != nil {
		return Invite{}, err
	}
	if err := validateHex64("invite token hash", c.TokenHash); err != nil {
		return Invite{}, err
	}
	if err := validateExpiry(c.SentAt, c.ExpiresAt); err != nil {
		return Invite{}, err
	}
	inv, err := t.pendingInvite(c.InviteID)
	if err != nil {
		return Invite{}, err
	}
	if _, ok := t.account.InviteByToken[c.TokenHash]; ok {
		return Invite{}, fmt.Errorf("%w: an invite with this token hash already exists", ErrConflict)
	}
	delete(t.account.InviteByToken, inv.TokenHash)
	inv.TokenHash, inv.SentAt, inv.ExpiresAt = c.TokenHash, c.SentAt.UTC(), c.ExpiresAt.UTC()
	t.account.putInvite(inv)
	return inv, nil
}

func (t *tables) applyAcceptInvite(c *AcceptInvite) (AcceptedInvite, error) {
	inv, err := t.acceptableInvite(c)
	if err != nil {
		return AcceptedInvite{}, err
	}
	if c.NewUser != nil {
		err = t.checkInviteAccount(c, inv)
	} else if c.NewKey != nil {
		err = fmt.Errorf("%w: an accept by an existing user carries no new API key", ErrInvalid)
	} else if _, ok := t.users[c.UserID]; !ok {
		err = fmt.Errorf("%w: user %q", ErrNotFound, c.UserID)
	}
	if err != nil {
		return AcceptedInvite{}, err
	}
	if _, ok := t.members[inv.WorkspaceID][c.UserID]; ok {
		return AcceptedInvite{}, fmt.Errorf("%w: user %q is already a member of workspace %q", ErrConflict, c.UserID, t.workspaces[inv.WorkspaceID].Slug)
	}

	// Every check passed and the inserts below return no errors, so the
	// entry applies whole or not at all.
	var out AcceptedInvite
	if c.NewUser != nil {
		account := t.insertUser(c.NewUser)
		key := t.insertKey(c.NewKey)
		out.Account, out.Key = &account, &key
	}
	at := c.At.UTC()
	out.Member = Member{WorkspaceID: inv.WorkspaceID, UserID: c.UserID, Role: inv.Role, CreatedAt: at}
	t.putMember(out.Member)
	inv.Status, inv.AcceptedBy, inv.ClosedAt = InviteAccepted, c.UserID, at
	t.account.putInvite(inv)
	out.Invite = inv
	return out, nil
}

// acceptableInvite returns the invite c names when it is pending and not
// expired at c.At.
func (t *tables) acceptableInvite(c *AcceptInvite) (Invite, error) {
	if err := validateHex64("invite token hash", c.TokenHash); err != nil {
		return Invite{}, err
	}
	if err := validateID("user ID", c.UserID); err != nil {
		return Invite{}, err
	}
	if err := validateTime("accept time", c.At); err != nil {
		return Invite{}, err
	}
	id, ok := t.account.InviteByToken[c.TokenHash]
	if !ok {
		return Invite{}, fmt.Errorf("%w: no invite has this token", ErrNotFound)
	}
	inv, err := t.pendingInvite(id)
	if err != nil {
		return Invite{}, err
	}
	if inv.ExpiredAt(c.At) {
		return Invite{}, fmt.Errorf("%w: invite %s expired at %s", ErrGone, id, inv.ExpiresAt.Format(time.RFC3339))
	}
	return inv, nil
}

// checkInviteAccount checks the account and key an accept creates.
func (t *tables) checkInviteAccount(c *AcceptInvite, inv Invite) error {
	u, k := c.NewUser, c.NewKey
	if k == nil {
		return fmt.Errorf("%w: a new account from an invite needs its first API key", ErrInvalid)
	}
	if u.UserID != c.UserID || k.UserID != c.UserID || k.WorkspaceID != u.WorkspaceID {
		return fmt.Errorf("%w: the new account, its key and the accepting user must be the same user and personal workspace", ErrInvalid)
	}
	if normalizeEmail(u.Email) != normalizeEmail(inv.Email) {
		return fmt.Errorf("%w: the new account's email %q differs from the invite's", ErrInvalid, u.Email)
	}
	if err := u.validate(); err != nil {
		return err
	}
	if err := t.checkNewUser(u); err != nil {
		return err
	}
	if err := k.validate(); err != nil {
		return err
	}
	return t.checkNewKey(k)
}

// putInvite stores inv, replacing any earlier version, and indexes its
// token hash and workspace. Callers remove a replaced token hash first.
func (a *accountTables) putInvite(inv Invite) {
	a.Invites[inv.ID] = inv
	a.InviteByToken[inv.TokenHash] = inv.ID
	if a.InvitesOfWS[inv.WorkspaceID] == nil {
		a.InvitesOfWS[inv.WorkspaceID] = map[string]bool{}
	}
	a.InvitesOfWS[inv.WorkspaceID][inv.ID] = true
}

func (a *accountTables) loadInvite(inv Invite) error {
	if _, ok := a.Invites[inv.ID]; ok {
		return fmt.Errorf("%w: invite %q appears twice", ErrConflict, inv.ID)
	}
	if _, ok := a.InviteByToken[inv.TokenHash]; ok {
		return fmt.Errorf("%w: token hash of invite %q appears twice", ErrConflict, inv.ID)
	}
	a.putInvite(inv)
	return nil
}

// InviteByID returns the invite with the given ID, in any status.
func (f *FSM) InviteByID(id string) (Invite, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	inv, ok := f.t.account.Invites[id]
	return inv, ok
}

// InviteByTokenHash returns the invite whose current token has the given
// hash, in any status. A token replaced by a resend is not found.
func (f *FSM) InviteByTokenHash(hash string) (Invite, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	inv, ok := f.t.account.Invites[f.t.account.InviteByToken[hash]]
	return inv, ok
}

// PendingInvites returns the pending invites of a workspace, expired ones
// included, in (CreatedAt, ID) order.
func (f *FSM) PendingInvites(workspaceID string) []Invite {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var out []Invite
	for id := range f.t.account.InvitesOfWS[workspaceID] {
		if inv := f.t.account.Invites[id]; inv.Status == InvitePending {
			out = append(out, inv)
		}
	}
	slices.SortFunc(out, func(a, b Invite) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out
}
