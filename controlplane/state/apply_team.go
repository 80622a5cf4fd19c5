package state

import "fmt"

func (c *CreateWorkspace) validate() error {
	if err := validateID("workspace ID", c.WorkspaceID); err != nil {
		return err
	}
	if err := validateID("owner ID", c.OwnerID); err != nil {
		return err
	}
	if err := ValidateUsername(c.Slug); err != nil {
		return err
	}
	if err := validateText("workspace name", c.Name, maxNameLen, true); err != nil {
		return err
	}
	if c.Plan != "" {
		if err := validatePlan(c.Plan); err != nil {
			return err
		}
	}
	return validateTime("created time", c.CreatedAt)
}

func (t *tables) applyCreateWorkspace(c *CreateWorkspace) (Workspace, error) {
	if err := c.validate(); err != nil {
		return Workspace{}, err
	}
	if _, ok := t.workspaces[c.WorkspaceID]; ok {
		return Workspace{}, fmt.Errorf("%w: workspace ID %q already exists", ErrConflict, c.WorkspaceID)
	}
	if _, ok := t.users[c.OwnerID]; !ok {
		return Workspace{}, fmt.Errorf("%w: user %q", ErrNotFound, c.OwnerID)
	}
	_, userTaken := t.userByName[c.Slug]
	_, slugTaken := t.workspaceBySlug[c.Slug]
	if userTaken || slugTaken {
		return Workspace{}, fmt.Errorf("%w: workspace slug %q is taken", ErrConflict, c.Slug)
	}
	plan := c.Plan
	if plan == "" {
		plan = PlanFree
	}
	created := c.CreatedAt.UTC()
	w := Workspace{ID: c.WorkspaceID, Slug: c.Slug, Name: c.Name, Plan: plan, CreatedAt: created}
	t.putWorkspace(w)
	t.putMember(Member{WorkspaceID: w.ID, UserID: c.OwnerID, Role: RoleAdmin, CreatedAt: created})
	return w, nil
}

func (t *tables) applyAddMember(c *AddMember) (Member, error) {
	if err := validateMemberRef(c.WorkspaceID, c.UserID); err != nil {
		return Member{}, err
	}
	if err := validateRole(c.Role); err != nil {
		return Member{}, err
	}
	if err := validateTime("created time", c.CreatedAt); err != nil {
		return Member{}, err
	}
	w, ok := t.workspaces[c.WorkspaceID]
	if !ok {
		return Member{}, fmt.Errorf("%w: workspace %q", ErrNotFound, c.WorkspaceID)
	}
	if w.Personal {
		return Member{}, fmt.Errorf("%w: workspace %q is personal and has no other members: create a team workspace", ErrInvalid, w.Slug)
	}
	if _, ok := t.users[c.UserID]; !ok {
		return Member{}, fmt.Errorf("%w: user %q", ErrNotFound, c.UserID)
	}
	if _, ok := t.members[c.WorkspaceID][c.UserID]; ok {
		return Member{}, fmt.Errorf("%w: user %q is already a member of workspace %q", ErrConflict, c.UserID, w.Slug)
	}
	m := Member{WorkspaceID: c.WorkspaceID, UserID: c.UserID, Role: c.Role, CreatedAt: c.CreatedAt.UTC()}
	t.putMember(m)
	return m, nil
}

func (t *tables) applyUpdateMember(c *UpdateMember) (Member, error) {
	if err := validateMemberRef(c.WorkspaceID, c.UserID); err != nil {
		return Member{}, err
	}
	if err := validateRole(c.Role); err != nil {
		return Member{}, err
	}
	m, err := t.member(c.WorkspaceID, c.UserID)
	if err != nil {
		return Member{}, err
	}
	if m.Role == RoleAdmin && c.Role != RoleAdmin && t.adminCount(c.WorkspaceID) == 1 {
		return Member{}, fmt.Errorf("%w: user %q is the last admin of workspace %q: make another member admin first", ErrInvalid, c.UserID, c.WorkspaceID)
	}
	m.Role = c.Role
	t.putMember(m)
	return m, nil
}

func (t *tables) applyRemoveMember(c *RemoveMember) (Member, error) {
	if err := validateMemberRef(c.WorkspaceID, c.UserID); err != nil {
		return Member{}, err
	}
	m, err := t.member(c.WorkspaceID, c.UserID)
	if err != nil {
		return Member{}, err
	}
	if m.Role == RoleAdmin && t.adminCount(c.WorkspaceID) == 1 {
		return Member{}, fmt.Errorf("%w: user %q is the last admin of workspace %q: make another member admin first", ErrInvalid, c.UserID, c.WorkspaceID)
	}
	delete(t.members[c.WorkspaceID], c.UserID)
	delete(t.memberOf[c.UserID], c.WorkspaceID)
	return m, nil
}

func validateMemberRef(workspaceID, userID string) error {
	if err := validateID("workspace ID", workspaceID); err != nil {
		return err
	}
	return validateID("user ID", userID)
}

func (t *tables) member(workspaceID, userID string) (Member, error) {
	m, ok := t.members[workspaceID][userID]
	if !ok {
		return Member{}, fmt.Errorf("%w: user %q is not a member of workspace %q", ErrNotFound, userID, workspaceID)
	}
	return m, nil
}

func (t *tables) adminCount(workspaceID string) int {
	n := 0
	for _, m := range t.members[workspaceID] {
		if m.Role == RoleAdmin {
			n++
		}
	}
	return n
}
