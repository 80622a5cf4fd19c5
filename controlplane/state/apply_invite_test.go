package state

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// inviteLog returns commands that set up the team workspace "acme" (ID 10)
// of ada (user 1) with bob (user 3) as a second user.
func inviteLog() []Command {
	return []Command{
		createUser(1, "ada"),
		createUser(3, "bob"),
		&CreateWorkspace{WorkspaceID: id(10), Slug: "acme", Name: "Acme", OwnerID: id(1), CreatedAt: at(10)},
	}
}

func createInvite(n int, email string, role Role) *CreateInvite {
	return &CreateInvite{InviteID: id(n), WorkspaceID: id(10), Email: email, Role: role, InvitedBy: id(1),
		TokenHash: hash(n), CreatedAt: at(n), ExpiresAt: at(n + 60)}
}

// newAccount returns the account and key an accept creates for user n
// with personal workspace n+1 and key n+2.
func newAccount(n int, name, email string) (*CreateUser, *CreateAPIKey) {
	return &CreateUser{UserID: id(n), WorkspaceID: id(n + 1), Username: name, Email: email, CreatedAt: at(n)},
		&CreateAPIKey{KeyID: id(n + 2), Name: "first", UserID: id(n), WorkspaceID: id(n + 1), Hash: hash(n + 2), Prefix: "ul_abcd", CreatedAt: at(n)}
}

func TestInviteAcceptCreatesAccount(t *testing.T) {
	l := newLog()
	for _, c := range inviteLog() {
		l.must(t, c)
	}
	inv := l.must(t, createInvite(20, "Cy@Example.com", RoleEditor)).(Invite)
	if inv.Status != InvitePending || !inv.SentAt.Equal(at(20)) {
		t.Fatalf("created invite = %+v, want pending and sent at minute 20", inv)
	}
	user, key := newAccount(30, "cy", "Cy@Example.com")
	got := l.must(t, &AcceptInvite{TokenHash: hash(20), UserID: id(30), NewUser: user, NewKey: key, At: at(25)}).(AcceptedInvite)

	if got.Account == nil || got.Account.User.Username != "cy" || got.Key == nil || got.Key.WorkspaceID != id(31) {
		t.Fatalf("accept result = %+v, want the account cy and its key", got)
	}
	m, ok := l.fsm.Member(id(10), id(30))
	if !ok || m.Role != RoleEditor {
		t.Errorf("membership of cy = %+v, %v; want editor", m, ok)
	}
	if _, ok := l.fsm.KeyByHash(hash(32)); !ok {
		t.Errorf("first API key of cy is not stored")
	}
	if u, ok := l.fsm.UserByEmail("cy@example.com"); !ok || u.ID != id(30) {
		t.Errorf("UserByEmail = %+v, %v; want cy", u, ok)
	}
	stored, _ := l.fsm.InviteByID(id(20))
	if stored.Status != InviteAccepted || stored.AcceptedBy != id(30) || !stored.ClosedAt.Equal(at(25)) {
		t.Errorf("invite after accept = %+v, want accepted by cy at minute 25", stored)
	}
	if pending := l.fsm.PendingInvites(id(10)); len(pending) != 0 {
		t.Errorf("PendingInvites after accept = %+v, want none", pending)
	}
	_, err := l.apply(t, &AcceptInvite{TokenHash: hash(20), UserID: id(3), At: at(26)})
	if !errors.Is(err, ErrGone) {
		t.Errorf("second accept: error %v, want ErrGone", err)
	}
}

func TestInviteAcceptByExistingUser(t *testing.T) {
	l := newLog()
	for _, c := range inviteLog() {
		l.must(t, c)
	}
	l.must(t, createInvite(20, "bob@example.com", RoleViewer))
	got := l.must(t, &AcceptInvite{TokenHash: hash(20), UserID: id(3), At: at(21)}).(AcceptedInvite)
	if got.Account != nil || got.Key != nil || got.Member.Role != RoleViewer {
		t.Errorf("accept by bob = %+v, want a viewer membership and no new account", got)
	}
	if _, ok := l.fsm.Member(id(10), id(3)); !ok {
		t.Errorf("bob is not a member after accepting")
	}
}

func TestInviteResendReplacesToken(t *testing.T) {
	l := newLog()
	for _, c := range inviteLog() {
		l.must(t, c)
	}
	l.must(t, createInvite(20, "cy@example.com", RoleViewer))
	// Minute 100 is after the first expiry (minute 80): a resend revives
	// an expired invite.
	inv := l.must(t, &ResendInvite{InviteID: id(20), TokenHash: hash(21), SentAt: at(100), ExpiresAt: at(200)}).(Invite)
	if inv.TokenHash != hash(21) || !inv.ExpiresAt.Equal(at(200)) || !inv.CreatedAt.Equal(at(20)) {
		t.Errorf("resent invite = %+v, want the new hash and expiry and the first creation time", inv)
	}
	if _, ok := l.fsm.InviteByTokenHash(hash(20)); ok {
		t.Errorf("the replaced token still finds the invite")
	}
	if _, err := l.apply(t, &AcceptInvite{TokenHash: hash(20), UserID: id(3), At: at(101)}); !errors.Is(err, ErrNotFound) {
		t.Errorf("accept with the replaced token: error %v, want ErrNotFound", err)
	}
	l.must(t, &AcceptInvite{TokenHash: hash(21), UserID: id(3), At: at(101)})
}

func TestInviteCommandsReject(t *testing.T) {
	l := newLog()
	for _, c := range inviteLog() {
		l.must(t, c)
	}
	l.must(t, createInvite(20, "cy@example.com", RoleViewer))
	l.must(t, createInvite(21, "dee@example.com", RoleViewer))
	l.must(t, &RevokeInvite{InviteID: id(21), RevokedAt: at(22)})
	l.must(t, createInvite(23, "eve@example.com", RoleViewer))
	l.must(t, &AcceptInvite{TokenHash: hash(23), UserID: id(3), At: at(24)})

	personal := createInvite(40, "x@example.com", RoleViewer)
	personal.WorkspaceID = id(2)
	noEmail := createInvite(41, "", RoleViewer)
	badRole := createInvite(42, "x@example.com", "owner")
	expiry := createInvite(43, "x@example.com", RoleViewer)
	expiry.ExpiresAt = expiry.CreatedAt
	dupToken := createInvite(44, "x@example.com", RoleViewer)
	dupToken.TokenHash = hash(20)
	cyAccount, cyKey := newAccount(50, "cy", "cy@example.com")
	wrongEmail, wrongEmailKey := newAccount(50, "cy", "mallory@example.com")
	takenName, takenNameKey := newAccount(50, "bob", "cy@example.com")
	for _, c := range []struct {
		name string
		cmd  Command
		want error
	}{
		{"invite to personal workspace", personal, ErrInvalid},
		{"invite without email", noEmail, ErrInvalid},
		{"invite with unknown role", badRole, ErrInvalid},
		{"invite expiring when sent", expiry, ErrInvalid},
		{"invite with a taken token hash", dupToken, ErrConflict},
		{"second pending invite of an email", createInvite(45, "CY@example.com", RoleAdmin), ErrConflict},
		{"invite of a member", createInvite(46, "bob@example.com", RoleViewer), ErrConflict},
		{"invite to unknown workspace", &CreateInvite{InviteID: id(47), WorkspaceID: id(99), Email: "x@example.com", Role: RoleViewer, InvitedBy: id(1), TokenHash: hash(47), CreatedAt: at(1), ExpiresAt: at(2)}, ErrNotFound},
		{"revoke revoked invite", &RevokeInvite{InviteID: id(21), RevokedAt: at(30)}, ErrGone},
		{"revoke accepted invite", &RevokeInvite{InviteID: id(23), RevokedAt: at(30)}, ErrGone},
		{"revoke unknown invite", &RevokeInvite{InviteID: id(98), RevokedAt: at(30)}, ErrNotFound},
		{"resend revoked invite", &ResendInvite{InviteID: id(21), TokenHash: hash(60), SentAt: at(30), ExpiresAt: at(90)}, ErrGone},
		{"resend with a taken token hash", &ResendInvite{InviteID: id(20), TokenHash: hash(23), SentAt: at(30), ExpiresAt: at(90)}, ErrConflict},
		{"accept revoked invite", &AcceptInvite{TokenHash: hash(21), UserID: id(3), At: at(30)}, ErrGone},
		{"accept expired invite", &AcceptInvite{TokenHash: hash(20), UserID: id(3), At: at(80)}, ErrGone},
		{"accept with unknown token", &AcceptInvite{TokenHash: hash(97), UserID: id(3), At: at(30)}, ErrNotFound},
		{"accept by unknown user", &AcceptInvite{TokenHash: hash(20), UserID: id(96), At: at(30)}, ErrNotFound},
		{"accept by a member", &AcceptInvite{TokenHash: hash(20), UserID: id(1), At: at(30)}, ErrConflict},
		{"new account without key", &AcceptInvite{TokenHash: hash(20), UserID: id(50), NewUser: cyAccount, At: at(30)}, ErrInvalid},
		{"new account with another email", &AcceptInvite{TokenHash: hash(20), UserID: id(50), NewUser: wrongEmail, NewKey: wrongEmailKey, At: at(30)}, ErrInvalid},
		{"new account with a taken username", &AcceptInvite{TokenHash: hash(20), UserID: id(50), NewUser: takenName, NewKey: takenNameKey, At: at(30)}, ErrConflict},
		{"new account for another user ID", &AcceptInvite{TokenHash: hash(20), UserID: id(3), NewUser: cyAccount, NewKey: cyKey, At: at(30)}, ErrInvalid},
		{"existing user with a new key", &AcceptInvite{TokenHash: hash(20), UserID: id(3), NewKey: cyKey, At: at(30)}, ErrInvalid},
	} {
		before := tableBytes(t, l.fsm)
		if _, err := l.apply(t, c.cmd); !errors.Is(err, c.want) {
			t.Errorf("%s: error %v, want %v", c.name, err, c.want)
		}
		if !bytes.Equal(tableBytes(t, l.fsm), before) {
			t.Errorf("%s: the rejected command changed the state", c.name)
		}
	}
}

// tableBytes returns the snapshot of f without its meta record, which
// holds the applied index that every entry moves.
func tableBytes(tb testing.TB, f *FSM) []byte {
	tb.Helper()
	data := snapshotBytes(tb, f)
	return data[5+binary.BigEndian.Uint32(data[1:5]):]
}

func TestUserAvatarSetAndRemove(t *testing.T) {
	l := newLog()
	l.must(t, createUser(1, "ada"))
	l.must(t, createProject(30, 2, "cars"))
	l.must(t, &SetProjectIcon{Icon: ProjectIcon{ProjectID: id(30), SHA256: hash(5), ContentType: "image/png", Size: 10, UpdatedAt: at(40)}})

	set := l.must(t, &SetUserAvatar{Avatar: UserAvatar{UserID: id(1), SHA256: hash(5), ContentType: "image/png", Size: 10, UpdatedAt: at(41)}}).(AvatarChange)
	if set.Previous != "" || set.Avatar.SHA256 != hash(5) {
		t.Errorf("first avatar = %+v, want hash 5 and no previous", set)
	}
	replaced := l.must(t, &SetUserAvatar{Avatar: UserAvatar{UserID: id(1), SHA256: hash(6), ContentType: "image/jpeg", Size: 20, UpdatedAt: at(42)}}).(AvatarChange)
	if replaced.Previous != hash(5) {
		t.Errorf("replacing the avatar reported previous %q, want %q", replaced.Previous, hash(5))
	}

	if !l.fsm.BlobReferenced(hash(6)) {
		t.Errorf("avatar blob is not reported as referenced")
	}
	if !l.fsm.BlobReferenced(hash(5)) {
		t.Errorf("blob shared with a project icon is not reported as referenced")
	}

	removed := l.must(t, &SetUserAvatar{Avatar: UserAvatar{UserID: id(1), UpdatedAt: at(43)}}).(AvatarChange)
	if removed.Previous != hash(6) {
		t.Errorf("removing the avatar reported previous %q, want %q", removed.Previous, hash(6))
	}
	if _, ok := l.fsm.UserAvatar(id(1)); ok {
		t.Errorf("avatar still set after removal")
	}
	if l.fsm.BlobReferenced(hash(6)) {
		t.Errorf("removed avatar blob is still reported as referenced")
	}

	for _, c := range []struct {
		name string
		cmd  *SetUserAvatar
		want error
	}{
		{"unknown user", &SetUserAvatar{Avatar: UserAvatar{UserID: id(99), SHA256: hash(7), ContentType: "image/png", Size: 1}}, ErrNotFound},
		{"no size", &SetUserAvatar{Avatar: UserAvatar{UserID: id(1), SHA256: hash(7), ContentType: "image/png"}}, ErrInvalid},
		{"upper-case hash", &SetUserAvatar{Avatar: UserAvatar{UserID: id(1), SHA256: "A" + hash(7)[1:], ContentType: "image/png", Size: 1}}, ErrInvalid},
	} {
		if _, err := l.apply(t, c.cmd); !errors.Is(err, c.want) {
			t.Errorf("%s: error %v, want %v", c.name, err, c.want)
		}
	}
}

// fullInviteLog leaves acme with one pending, one accepted, one revoked
// and one resent invite, and ada with an avatar.
func fullInviteLog() []Command {
	user, key := newAccount(30, "cy", "cy@example.com")
	return append(inviteLog(),
		createInvite(20, "cy@example.com", RoleEditor),
		createInvite(21, "dee@example.com", RoleViewer),
		createInvite(22, "eve@example.com", RoleAdmin),
		createInvite(23, "fay@example.com", RoleViewer),
		&AcceptInvite{TokenHash: hash(20), UserID: id(30), NewUser: user, NewKey: key, At: at(24)},
		&RevokeInvite{InviteID: id(21), RevokedAt: at(25)},
		&ResendInvite{InviteID: id(23), TokenHash: hash(26), SentAt: at(26), ExpiresAt: at(300)},
		&SetUserAvatar{Avatar: UserAvatar{UserID: id(1), SHA256: hash(8), ContentType: "image/png", Size: 99, UpdatedAt: at(27)}},
	)
}

func TestInvitesAndAvatarsRoundTrip(t *testing.T) {
	l := newLog()
	for _, c := range fullInviteLog() {
		l.must(t, c)
	}
	f, data := restoreCopy(t, l.fsm)
	if diff := cmp.Diff(l.fsm.t.account, f.t.account); diff != "" {
		t.Errorf("account tables after restore (-want +got):\n%s", diff)
	}
	counts := recordCounts(t, data)
	if counts[RecordInvite] != 4 || counts[RecordUserAvatar] != 1 {
		t.Errorf("snapshot has %d invite and %d avatar records, want 4 and 1", counts[RecordInvite], counts[RecordUserAvatar])
	}

	// The restored state keeps working: the resent token is accepted, the
	// replaced and the used ones are not.
	if _, ok := f.InviteByTokenHash(hash(23)); ok {
		t.Errorf("the replaced token finds an invite after restore")
	}
	if got := f.PendingInvites(id(10)); len(got) != 2 || got[0].ID != id(22) || got[1].ID != id(23) {
		t.Errorf("PendingInvites after restore = %+v, want invites 22 and 23", got)
	}
	restored := &log{fsm: f, index: f.AppliedIndex()}
	if _, err := restored.apply(t, &AcceptInvite{TokenHash: hash(20), UserID: id(3), At: at(40)}); !errors.Is(err, ErrGone) {
		t.Errorf("accept of the used token after restore: error %v, want ErrGone", err)
	}
	restored.must(t, &AcceptInvite{TokenHash: hash(26), UserID: id(3), At: at(40)})
}

func TestRestoreRejectsDuplicateInviteToken(t *testing.T) {
	first := `{"id":"` + id(1) + `","workspaceId":"` + id(2) + `","email":"a@example.com","role":"viewer","invitedBy":"` + id(3) + `","tokenHash":"` + hash(1) + `","status":"pending"}`
	second := `{"id":"` + id(4) + `","workspaceId":"` + id(2) + `","email":"b@example.com","role":"viewer","invitedBy":"` + id(3) + `","tokenHash":"` + hash(1) + `","status":"pending"}`
	stream := bytes.Join([][]byte{record(RecordInvite, first), record(RecordInvite, second), record(RecordEnd, `{"records":2}`)}, nil)
	if _, err := restoreFrom(t, stream); !errors.Is(err, ErrConflict) {
		t.Errorf("Restore with a repeated invite token hash: error %v, want ErrConflict", err)
	}
}
