package state

import (
	"fmt"
	"strings"
)

// CreatedUser is the result of CreateUser.
type CreatedUser struct {
	User      User
	Workspace Workspace
	Member    Member
}

// keyPrefixLen is the length of APIKey.Prefix: "ul_" and four hex digits.
const keyPrefixLen = 7

func normalizeEmail(email string) string { return strings.ToLower(email) }

func (c *CreateUser) validate() error {
	if err := validateID("user ID", c.UserID); err != nil {
		return err
	}
	if err := validateID("workspace ID", c.WorkspaceID); err != nil {
		return err
	}
	if err := ValidateUsername(c.Username); err != nil {
		return err
	}
	if err := validateEmail(c.Email); err != nil {
		return err
	}
	if err := validateText("display name", c.DisplayName, maxNameLen, false); err != nil {
		return err
	}
	if c.Plan != "" {
		if err := validatePlan(c.Plan); err != nil {
			return err
		}
	}
	return validateTime("created time", c.CreatedAt)
}

func (t *tables) applyCreateUser(c *CreateUser) (CreatedUser, error) {
	if err := c.validate(); err != nil {
		return CreatedUser{}, err
	}
	if err := t.checkNewUser(c); err != nil {
		return CreatedUser{}, err
	}
	return t.insertUser(c), nil
}

// insertUser stores the user, personal workspace and membership of c, which
// passed validate and checkNewUser.
func (t *tables) insertUser(c *CreateUser) CreatedUser {
	created := c.CreatedAt.UTC()
	u := User{ID: c.UserID, Username: c.Username, Email: c.Email, DisplayName: c.DisplayName, CreatedAt: created}
	name := c.DisplayName
	if name == "" {
		name = c.Username
	}
	plan := c.Plan
	if plan == "" {
		plan = PlanFree
	}
	w := Workspace{ID: c.WorkspaceID, Slug: c.Username, Name: name, Personal: true, Plan: plan, CreatedAt: created}
	m := Member{WorkspaceID: w.ID, UserID: u.ID, Role: RoleAdmin, CreatedAt: created}
	t.putUser(u)
	t.putWorkspace(w)
	t.putMember(m)
	return CreatedUser{User: u, Workspace: w, Member: m}
}

func (t *tables) checkNewUser(c *CreateUser) error {
	if _, ok := t.users[c.UserID]; ok {
		return fmt.Errorf("%w: user ID %q already exists", ErrConflict, c.UserID)
	}
	if _, ok := t.workspaces[c.WorkspaceID]; ok {
		return fmt.Errorf("%w: workspace ID %q already exists", ErrConflict, c.WorkspaceID)
	}
	if c.UserID == c.WorkspaceID {
		return fmt.Errorf("%w: user ID and workspace ID are both %q", ErrInvalid, c.UserID)
	}
	// Workspace slugs and usernames share one namespace, so either taken
	// means the name is taken.
	_, userTaken := t.userByName[c.Username]
	_, slugTaken := t.workspaceBySlug[c.Username]
	if userTaken || slugTaken {
		return fmt.Errorf("%w: username %q is taken", ErrConflict, c.Username)
	}
	if c.Email != "" {
		if _, ok := t.userByEmail[normalizeEmail(c.Email)]; ok {
			return fmt.Errorf("%w: email %q is already registered", ErrConflict, c.Email)
		}
	}
	return nil
}

func (c *CreateAPIKey) validate() error {
	if err := validateID("key ID", c.KeyID); err != nil {
		return err
	}
	if err := validateID("user ID", c.UserID); err != nil {
		return err
	}
	if err := validateID("workspace ID", c.WorkspaceID); err != nil {
		return err
	}
	if err := validateText("key name", c.Name, maxNameLen, false); err != nil {
		return err
	}
	if err := validateHex64("key hash", c.Hash); err != nil {
		return err
	}
	if len(c.Prefix) != keyPrefixLen || !strings.HasPrefix(c.Prefix, "ul_") {
		return fmt.Errorf("%w: key prefix %q must be \"ul_\" and 4 more characters", ErrInvalid, c.Prefix)
	}
	return validateTime("created time", c.CreatedAt)
}

func (t *tables) applyCreateAPIKey(c *CreateAPIKey) (APIKey, error) {
	if err := c.validate(); err != nil {
		return APIKey{}, err
	}
	if err := t.checkNewKey(c); err != nil {
		return APIKey{}, err
	}
	if _, ok := t.users[c.UserID]; !ok {
		return APIKey{}, fmt.Errorf("%w: user %q", ErrNotFound, c.UserID)
	}
	if _, ok := t.members[c.WorkspaceID][c.UserID]; !ok {
		return APIKey{}, fmt.Errorf("%w: user %q is not a member of workspace %q", ErrNotFound, c.UserID, c.WorkspaceID)
	}
	return t.insertKey(c), nil
}

// checkNewKey returns an ErrConflict error when the ID or hash of c is
// taken.
func (t *tables) checkNewKey(c *CreateAPIKey) error {
	if _, ok := t.keys[c.KeyID]; ok {
		return fmt.Errorf("%w: key ID %q already exists", ErrConflict, c.KeyID)
	}
	if _, ok := t.keyByHash[c.Hash]; ok {
		return fmt.Errorf("%w: a key with this hash already exists", ErrConflict)
	}
	return nil
}

func (t *tables) insertKey(c *CreateAPIKey) APIKey {
	k := APIKey{
		ID: c.KeyID, Name: c.Name, UserID: c.UserID, WorkspaceID: c.WorkspaceID,
		Hash: c.Hash, Prefix: c.Prefix, CreatedAt: c.CreatedAt.UTC(),
	}
	t.putKey(k)
	return k
}

func (t *tables) applyRevokeAPIKey(c *RevokeAPIKey) (APIKey, error) {
	if err := validateID("key ID", c.KeyID); err != nil {
		return APIKey{}, err
	}
	if err := validateTime("revoked time", c.RevokedAt); err != nil {
		return APIKey{}, err
	}
	k, ok := t.keys[c.KeyID]
	if !ok {
		return APIKey{}, fmt.Errorf("%w: key %q", ErrNotFound, c.KeyID)
	}
	if k.Revoked {
		return k.clone(), nil
	}
	k = k.clone()
	at := c.RevokedAt.UTC()
	k.Revoked = true
	k.RevokedAt = &at
	t.putKey(k)
	return k.clone(), nil
}

// applyTouchAPIKeys returns the number of keys whose LastUsedAt moved.
func (t *tables) applyTouchAPIKeys(c *TouchAPIKeys) (int, error) {
	for i, u := range c.Uses {
		if err := validateID(fmt.Sprintf("uses[%d] key ID", i), u.KeyID); err != nil {
			return 0, err
		}
		if err := validateTime(fmt.Sprintf("uses[%d] time", i), u.At); err != nil {
			return 0, err
		}
	}
	moved := 0
	for _, u := range c.Uses {
		k, ok := t.keys[u.KeyID]
		if !ok || (k.LastUsedAt != nil && !u.At.After(*k.LastUsedAt)) {
			continue
		}
		k = k.clone()
		at := u.At.UTC()
		k.LastUsedAt = &at
		t.putKey(k)
		moved++
	}
	return moved, nil
}
