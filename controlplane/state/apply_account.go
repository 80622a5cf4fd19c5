package state

import (
	"cmp"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"time"
)

// Commands and snapshot records of account features: profile settings,
// follows, project icons, model download counts, team invites (numbers 25
// to 28, in apply_invite.go) and user avatars. Numbers 21 to 39 are kept
// for them.
const (
	CmdUpdateSettings     CommandType = 21
	CmdSetFollow          CommandType = 22
	CmdSetProjectIcon     CommandType = 23
	CmdTrackModelDownload CommandType = 24
	CmdSetUserAvatar      CommandType = 29
)

const (
	RecordSettings       RecordType = 21
	RecordFollow         RecordType = 22
	RecordProjectIcon    RecordType = 23
	RecordModelDownloads RecordType = 24
	RecordUserAvatar     RecordType = 26
)

// Bounds on profile settings, in bytes or entries.
const (
	maxBioLen         = 1000
	maxProfileField   = 200 // full name, company, use case, one social link
	maxPreferences    = 64
	maxPreferenceKey  = 64
	maxPreferenceText = 4096
)

// sha256Pattern is the form of a blob hash: lowercase hex SHA-256.
var sha256Pattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// SocialKeys are the social links a profile may hold, as the public user
// profile names them.
var SocialKeys = []string{"discord", "github", "linkedin", "scholar", "twitter", "website", "youtube"}

// Settings is a user's profile and preferences. Preferences are free-form
// client settings, such as a theme, stored as text.
type Settings struct {
	UserID      string            `json:"userId"`
	FullName    string            `json:"fullName,omitempty"`
	Bio         string            `json:"bio,omitempty"`
	Company     string            `json:"company,omitempty"`
	UseCase     string            `json:"useCase,omitempty"`
	Socials     map[string]string `json:"socials,omitempty"`
	Preferences map[string]string `json:"preferences,omitempty"`
	UpdatedAt   time.Time         `json:"updatedAt"`
}

// UpdateSettings changes the profile fields that are set (non-nil). A
// non-nil Socials replaces every link, and an empty link value removes
// that link. A non-nil Preferences is merged key by key, and an empty
// value removes the key.
type UpdateSettings struct {
	UserID      string            `json:"userId"`
	FullName    *string           `json:"fullName,omitempty"`
	Bio         *string           `json:"bio,omitempty"`
	Company     *string           `json:"company,omitempty"`
	UseCase     *string           `json:"useCase,omitempty"`
	Socials     map[string]string `json:"socials,omitempty"`
	Preferences map[string]string `json:"preferences,omitempty"`
	UpdatedAt   time.Time         `json:"updatedAt"`
}

// SetFollow makes a user follow or stop following a workspace (a user's
// personal workspace or a team). Setting the current state again changes
// nothing, so a retried proposal is harmless.
type SetFollow struct {
	UserID      string `json:"userId"`
	WorkspaceID string `json:"workspaceId"`
	Followed    bool   `json:"followed"`
}

// FollowState is the result of SetFollow.
type FollowState struct {
	Followed      bool `json:"followed"`
	FollowerCount int  `json:"followerCount"`
}

// Follow is one user following one workspace, as snapshots store it.
type Follow struct {
	UserID      string `json:"userId"`
	WorkspaceID string `json:"workspaceId"`
}

// ProjectIcon is the image shown for a project. The image lives in the
// blob store under SHA256.
type ProjectIcon struct {
	ProjectID   string    `json:"projectId"`
	SHA256      string    `json:"sha256"`
	ContentType string    `json:"contentType"`
	Size        int64     `json:"size"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

// SetProjectIcon sets the icon of a live project, or removes it when
// SHA256 is empty.
type SetProjectIcon struct {
	Icon ProjectIcon `json:"icon"`
}

// IconChange is the result of SetProjectIcon. Previous is the blob hash of
// the replaced or removed icon, empty when there was none, so that the
// proposer can delete a blob nothing references anymore.
type IconChange struct {
	Icon     ProjectIcon `json:"icon"`
	Previous string      `json:"previous,omitempty"`
}

// UserAvatar is the profile image of a user. The image lives in the blob
// store under SHA256.
type UserAvatar struct {
	UserID      string    `json:"userId"`
	SHA256      string    `json:"sha256"`
	ContentType string    `json:"contentType"`
	Size        int64     `json:"size"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

// SetUserAvatar sets the avatar of a user, or removes it when SHA256 is
// empty.
type SetUserAvatar struct {
	Avatar UserAvatar `json:"avatar"`
}

// AvatarChange is the result of SetUserAvatar. Previous is the blob hash of
// the replaced or removed avatar, like IconChange.Previous.
type AvatarChange struct {
	Avatar   UserAvatar `json:"avatar"`
	Previous string     `json:"previous,omitempty"`
}

// TrackModelDownload counts one download of a model's file.
type TrackModelDownload struct {
	ModelID string    `json:"modelId"`
	At      time.Time `json:"at"`
}

// ModelDownloads is the download count of one model.
type ModelDownloads struct {
	ModelID string    `json:"modelId"`
	Count   int64     `json:"count"`
	LastAt  time.Time `json:"lastAt"`
}

func (*UpdateSettings) CommandType() CommandType     { return CmdUpdateSettings }
func (*SetFollow) CommandType() CommandType          { return CmdSetFollow }
func (*SetProjectIcon) CommandType() CommandType     { return CmdSetProjectIcon }
func (*TrackModelDownload) CommandType() CommandType { return CmdTrackModelDownload }
func (*SetUserAvatar) CommandType() CommandType      { return CmdSetUserAvatar }

// accountTables contains the account records. Its fields are exported only
// so that go-cmp compares them in the snapshot tests.
type accountTables struct {
	Settings      map[string]Settings        // by user ID
	Followers     map[string]map[string]bool // workspace ID → follower user IDs
	Icons         map[string]ProjectIcon     // by project ID
	Downloads     map[string]ModelDownloads  // by model ID
	Invites       map[string]Invite          // by invite ID
	InviteByToken map[string]string          // token hash → invite ID
	InvitesOfWS   map[string]map[string]bool // workspace ID → invite IDs
	Avatars       map[string]UserAvatar      // by user ID
}

func newAccountTables() accountTables {
	return accountTables{
		Settings: map[string]Settings{}, Followers: map[string]map[string]bool{},
		Icons: map[string]ProjectIcon{}, Downloads: map[string]ModelDownloads{},
		Invites: map[string]Invite{}, InviteByToken: map[string]string{}, InvitesOfWS: map[string]map[string]bool{},
		Avatars: map[string]UserAvatar{},
	}
}

func newAccountCommand(t CommandType) Command {
	switch t {
	case CmdUpdateSettings:
		return &UpdateSettings{}
	case CmdSetFollow:
		return &SetFollow{}
	case CmdSetProjectIcon:
		return &SetProjectIcon{}
	case CmdTrackModelDownload:
		return &TrackModelDownload{}
	case CmdCreateInvite:
		return &CreateInvite{}
	case CmdRevokeInvite:
		return &RevokeInvite{}
	case CmdAcceptInvite:
		return &AcceptInvite{}
	case CmdResendInvite:
		return &ResendInvite{}
	case CmdSetUserAvatar:
		return &SetUserAvatar{}
	}
	return nil
}

// dispatchAccount applies an account command. It reports false for a
// command it does not handle.
func (t *tables) dispatchAccount(cmd Command) (any, bool) {
	switch c := cmd.(type) {
	case *UpdateSettings:
		return result(t.applyUpdateSettings(c)), true
	case *SetFollow:
		return result(t.applySetFollow(c)), true
	case *SetProjectIcon:
		return result(t.applySetProjectIcon(c)), true
	case *TrackModelDownload:
		return result(t.applyTrackModelDownload(c)), true
	case *CreateInvite:
		return result(t.applyCreateInvite(c)), true
	case *RevokeInvite:
		return result(t.applyRevokeInvite(c)), true
	case *AcceptInvite:
		return result(t.applyAcceptInvite(c)), true
	case *ResendInvite:
		return result(t.applyResendInvite(c)), true
	case *SetUserAvatar:
		return result(t.applySetUserAvatar(c)), true
	}
	return nil, false
}

func (t *tables) applyUpdateSettings(c *UpdateSettings) (Settings, error) {
	if _, ok := t.users[c.UserID]; !ok {
		return Settings{}, fmt.Errorf("%w: user %q", ErrNotFound, c.UserID)
	}
	if err := c.validate(); err != nil {
		return Settings{}, err
	}
	s := t.account.Settings[c.UserID]
	s.UserID = c.UserID
	setIfPresent(&s.FullName, c.FullName)
	setIfPresent(&s.Bio, c.Bio)
	setIfPresent(&s.Company, c.Company)
	setIfPresent(&s.UseCase, c.UseCase)
	if c.Socials != nil {
		s.Socials = withoutEmpty(c.Socials)
	}
	if c.Preferences != nil {
		merged := maps.Clone(s.Preferences)
		if merged == nil {
			merged = map[string]string{}
		}
		maps.Copy(merged, c.Preferences)
		s.Preferences = withoutEmpty(merged)
		if len(s.Preferences) > maxPreferences {
			return Settings{}, fmt.Errorf("%w: preferences hold %d keys, the maximum is %d", ErrInvalid, len(s.Preferences), maxPreferences)
		}
	}
	s.UpdatedAt = c.UpdatedAt.UTC()
	t.account.Settings[c.UserID] = s
	return s.clone(), nil
}

func (c *UpdateSettings) validate() error {
	fields := []struct {
		name  string
		value *string
		max   int
	}{{"fullName", c.FullName, maxProfileField}, {"bio", c.Bio, maxBioLen}, {"company", c.Company, maxProfileField}, {"useCase", c.UseCase, maxProfileField}}
	for _, f := range fields {
		if f.value != nil && len(*f.value) > f.max {
			return fmt.Errorf("%w: %s is %d bytes long, the maximum is %d", ErrInvalid, f.name, len(*f.value), f.max)
		}
	}
	for k, v := range c.Socials {
		if !slices.Contains(SocialKeys, k) {
			return fmt.Errorf("%w: social link %q is unknown, use one of %v", ErrInvalid, k, SocialKeys)
		}
		if len(v) > maxProfileField {
			return fmt.Errorf("%w: social link %s is %d bytes long, the maximum is %d", ErrInvalid, k, len(v), maxProfileField)
		}
	}
	for k, v := range c.Preferences {
		if k == "" || len(k) > maxPreferenceKey || len(v) > maxPreferenceText {
			return fmt.Errorf("%w: preference %q must have a key of 1 to %d bytes and a value of at most %d bytes", ErrInvalid, k, maxPreferenceKey, maxPreferenceText)
		}
	}
	return nil
}

func setIfPresent(dst *string, v *string) {
	if v != nil {
		*dst = *v
	}
}

func withoutEmpty(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

func (s Settings) clone() Settings {
	s.Socials = maps.Clone(s.Socials)
	s.Preferences = maps.Clone(s.Preferences)
	return s
}

func (t *tables) applySetFollow(c *SetFollow) (FollowState, error) {
	if _, ok := t.users[c.UserID]; !ok {
		return FollowState{}, fmt.Errorf("%w: user %q", ErrNotFound, c.UserID)
	}
	ws, ok := t.workspaces[c.WorkspaceID]
	if !ok {
		return FollowState{}, fmt.Errorf("%w: workspace %q", ErrNotFound, c.WorkspaceID)
	}
	if ws.Personal && t.userByName[ws.Slug] == c.UserID {
		return FollowState{}, fmt.Errorf("%w: user %q cannot follow their own account", ErrInvalid, ws.Slug)
	}
	followers := t.account.Followers[c.WorkspaceID]
	switch {
	case c.Followed && followers == nil:
		followers = map[string]bool{c.UserID: true}
		t.account.Followers[c.WorkspaceID] = followers
	case c.Followed:
		followers[c.UserID] = true
	default:
		delete(followers, c.UserID)
		if len(followers) == 0 {
			delete(t.account.Followers, c.WorkspaceID)
		}
	}
	return FollowState{Followed: c.Followed, FollowerCount: len(t.account.Followers[c.WorkspaceID])}, nil
}

func (t *tables) applySetProjectIcon(c *SetProjectIcon) (IconChange, error) {
	icon := c.Icon
	p, ok := t.projects[icon.ProjectID]
	if !ok || p.DeletedAt != nil {
		return IconChange{}, fmt.Errorf("%w: project %q", ErrNotFound, icon.ProjectID)
	}
	previous := t.account.Icons[icon.ProjectID].SHA256
	if icon.SHA256 == "" {
		delete(t.account.Icons, icon.ProjectID)
		return IconChange{Previous: previous}, nil
	}
	if err := validateImageBlob("icon of project "+icon.ProjectID, icon.SHA256, icon.Size, icon.ContentType); err != nil {
		return IconChange{}, err
	}
	icon.UpdatedAt = icon.UpdatedAt.UTC()
	t.account.Icons[icon.ProjectID] = icon
	if previous == icon.SHA256 {
		previous = ""
	}
	return IconChange{Icon: icon, Previous: previous}, nil
}

func (t *tables) applySetUserAvatar(c *SetUserAvatar) (AvatarChange, error) {
	avatar := c.Avatar
	if _, ok := t.users[avatar.UserID]; !ok {
		return AvatarChange{}, fmt.Errorf("%w: user %q", ErrNotFound, avatar.UserID)
	}
	previous := t.account.Avatars[avatar.UserID].SHA256
	if avatar.SHA256 == "" {
		delete(t.account.Avatars, avatar.UserID)
		return AvatarChange{Previous: previous}, nil
	}
	if err := validateImageBlob("avatar of user "+avatar.UserID, avatar.SHA256, avatar.Size, avatar.ContentType); err != nil {
		return AvatarChange{}, err
	}
	avatar.UpdatedAt = avatar.UpdatedAt.UTC()
	t.account.Avatars[avatar.UserID] = avatar
	if previous == avatar.SHA256 {
		previous = ""
	}
	return AvatarChange{Avatar: avatar, Previous: previous}, nil
}

// validateImageBlob checks the blob reference of an icon or avatar. subject
// names the image in the error, such as "icon of project 1234".
func validateImageBlob(subject, hash string, size int64, contentType string) error {
	if !sha256Pattern.MatchString(hash) || size <= 0 || contentType == "" {
		return fmt.Errorf("%w: %s needs a lowercase hex SHA-256, a positive size and a content type", ErrInvalid, subject)
	}
	return nil
}

func (t *tables) applyTrackModelDownload(c *TrackModelDownload) (ModelDownloads, error) {
	m, ok := t.models[c.ModelID]
	if !ok || m.DeletedAt != nil {
		return ModelDownloads{}, fmt.Errorf("%w: model %q", ErrNotFound, c.ModelID)
	}
	d := t.account.Downloads[c.ModelID]
	d.ModelID = c.ModelID
	d.Count++
	if at := c.At.UTC(); at.After(d.LastAt) {
		d.LastAt = at
	}
	t.account.Downloads[c.ModelID] = d
	return d, nil
}

// Settings returns the profile settings of a user, zero with only UserID
// set when the user never saved any.
func (f *FSM) Settings(userID string) Settings {
	f.mu.RLock()
	defer f.mu.RUnlock()
	s, ok := f.t.account.Settings[userID]
	if !ok {
		return Settings{UserID: userID}
	}
	return s.clone()
}

// Followers returns how many users follow a workspace and whether userID
// is one of them.
func (f *FSM) Followers(workspaceID, userID string) (count int, following bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	followers := f.t.account.Followers[workspaceID]
	return len(followers), followers[userID]
}

// ProjectIcon returns the icon of a project.
func (f *FSM) ProjectIcon(projectID string) (ProjectIcon, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	icon, ok := f.t.account.Icons[projectID]
	return icon, ok
}

// UserAvatar returns the avatar of a user.
func (f *FSM) UserAvatar(userID string) (UserAvatar, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	avatar, ok := f.t.account.Avatars[userID]
	return avatar, ok
}

// ModelDownloads returns the download count of a model.
func (f *FSM) ModelDownloads(modelID string) ModelDownloads {
	f.mu.RLock()
	defer f.mu.RUnlock()
	d, ok := f.t.account.Downloads[modelID]
	if !ok {
		return ModelDownloads{ModelID: modelID}
	}
	return d
}

// iconReferences reports whether any project icon or user avatar uses the
// blob hash.
func (a *accountTables) iconReferences(hash string) bool {
	for _, icon := range a.Icons {
		if icon.SHA256 == hash {
			return true
		}
	}
	for _, avatar := range a.Avatars {
		if avatar.SHA256 == hash {
			return true
		}
	}
	return false
}

// accountSnapshot contains sorted copies of the account tables.
type accountSnapshot struct {
	settings  []Settings
	follows   []Follow
	icons     []ProjectIcon
	downloads []ModelDownloads
	invites   []Invite
	avatars   []UserAvatar
}

func (a *accountTables) snapshot() accountSnapshot {
	var follows []Follow
	for ws, users := range a.Followers {
		for u := range users {
			follows = append(follows, Follow{UserID: u, WorkspaceID: ws})
		}
	}
	slices.SortFunc(follows, func(x, y Follow) int {
		return cmp.Or(cmp.Compare(x.WorkspaceID, y.WorkspaceID), cmp.Compare(x.UserID, y.UserID))
	})
	return accountSnapshot{
		settings:  sortedValues(a.Settings, func(s Settings) string { return s.UserID }),
		follows:   follows,
		icons:     sortedValues(a.Icons, func(i ProjectIcon) string { return i.ProjectID }),
		downloads: sortedValues(a.Downloads, func(d ModelDownloads) string { return d.ModelID }),
		invites:   sortedValues(a.Invites, func(i Invite) string { return i.ID }),
		avatars:   sortedValues(a.Avatars, func(v UserAvatar) string { return v.UserID }),
	}
}

func (s accountSnapshot) writeTo(rw *recordWriter) {
	writeAll(rw, RecordSettings, s.settings)
	writeAll(rw, RecordFollow, s.follows)
	writeAll(rw, RecordProjectIcon, s.icons)
	writeAll(rw, RecordModelDownloads, s.downloads)
	writeAll(rw, RecordInvite, s.invites)
	writeAll(rw, RecordUserAvatar, s.avatars)
}

// loadRecord decodes one account record. It returns false for a record
// type that is not an account record.
func (a *accountTables) loadRecord(rt RecordType, body []byte) (bool, error) {
	switch rt {
	case RecordSettings:
		return true, load(body, a.loadSettings)
	case RecordFollow:
		return true, load(body, a.loadFollow)
	case RecordProjectIcon:
		return true, load(body, a.loadIcon)
	case RecordModelDownloads:
		return true, load(body, a.loadDownloads)
	case RecordInvite:
		return true, load(body, a.loadInvite)
	case RecordUserAvatar:
		return true, load(body, a.loadAvatar)
	}
	return false, nil
}

func (a *accountTables) loadSettings(s Settings) error {
	if _, ok := a.Settings[s.UserID]; ok {
		return fmt.Errorf("%w: settings of user %q appear twice", ErrConflict, s.UserID)
	}
	a.Settings[s.UserID] = s
	return nil
}

func (a *accountTables) loadFollow(f Follow) error {
	if a.Followers[f.WorkspaceID][f.UserID] {
		return fmt.Errorf("%w: follow of workspace %q by user %q appears twice", ErrConflict, f.WorkspaceID, f.UserID)
	}
	if a.Followers[f.WorkspaceID] == nil {
		a.Followers[f.WorkspaceID] = map[string]bool{}
	}
	a.Followers[f.WorkspaceID][f.UserID] = true
	return nil
}

func (a *accountTables) loadIcon(i ProjectIcon) error {
	if _, ok := a.Icons[i.ProjectID]; ok {
		return fmt.Errorf("%w: icon of project %q appears twice", ErrConflict, i.ProjectID)
	}
	a.Icons[i.ProjectID] = i
	return nil
}

func (a *accountTables) loadDownloads(d ModelDownloads) error {
	if _, ok := a.Downloads[d.ModelID]; ok {
		return fmt.Errorf("%w: downloads of model %q appear twice", ErrConflict, d.ModelID)
	}
	a.Downloads[d.ModelID] = d
	return nil
}

func (a *accountTables) loadAvatar(v UserAvatar) error {
	if _, ok := a.Avatars[v.UserID]; ok {
		return fmt.Errorf("%w: avatar of user %q appears twice", ErrConflict, v.UserID)
	}
	a.Avatars[v.UserID] = v
	return nil
}
