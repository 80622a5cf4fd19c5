package state

import (
	"fmt"
	"time"
)

func (c *CreateProject) validate() error {
	if err := validateID("project ID", c.ProjectID); err != nil {
		return err
	}
	if err := validateID("workspace ID", c.WorkspaceID); err != nil {
		return err
	}
	if err := ValidateSlug("project slug", c.Slug); err != nil {
		return err
	}
	if err := validateText("project name", c.Name, maxNameLen, true); err != nil {
		return err
	}
	if err := validateText("project description", c.Description, maxDescriptionLen, false); err != nil {
		return err
	}
	return validateTime("created time", c.CreatedAt)
}

func (t *tables) applyCreateProject(c *CreateProject) (Project, error) {
	if err := c.validate(); err != nil {
		return Project{}, err
	}
	if _, ok := t.projects[c.ProjectID]; ok {
		return Project{}, fmt.Errorf("%w: project ID %q already exists", ErrConflict, c.ProjectID)
	}
	if _, ok := t.workspaces[c.WorkspaceID]; !ok {
		return Project{}, fmt.Errorf("%w: workspace %q", ErrNotFound, c.WorkspaceID)
	}
	if _, ok := t.projectBySlug[childKey(c.WorkspaceID, c.Slug)]; ok {
		return Project{}, fmt.Errorf("%w: project slug %q is taken in this workspace", ErrConflict, c.Slug)
	}
	created := c.CreatedAt.UTC()
	p := Project{
		ID: c.ProjectID, WorkspaceID: c.WorkspaceID, Slug: c.Slug, Name: c.Name,
		Description: c.Description, CreatedAt: created, UpdatedAt: created,
	}
	t.putProject(p)
	return p.clone(), nil
}

func (c *UpdateProject) validate() error {
	if err := validateID("project ID", c.ProjectID); err != nil {
		return err
	}
	if c.Slug != nil {
		if err := ValidateSlug("project slug", *c.Slug); err != nil {
			return err
		}
	}
	if c.Name != nil {
		if err := validateText("project name", *c.Name, maxNameLen, true); err != nil {
			return err
		}
	}
	if c.Description != nil {
		if err := validateText("project description", *c.Description, maxDescriptionLen, false); err != nil {
			return err
		}
	}
	return validateTime("updated time", c.UpdatedAt)
}

func (t *tables) applyUpdateProject(c *UpdateProject) (Project, error) {
	if err := c.validate(); err != nil {
		return Project{}, err
	}
	p, err := t.liveProject(c.ProjectID)
	if err != nil {
		return Project{}, err
	}
	if c.Slug != nil && *c.Slug != p.Slug {
		if _, ok := t.projectBySlug[childKey(p.WorkspaceID, *c.Slug)]; ok {
			return Project{}, fmt.Errorf("%w: project slug %q is taken in this workspace", ErrConflict, *c.Slug)
		}
		p.Slug = *c.Slug
	}
	if c.Name != nil {
		p.Name = *c.Name
	}
	if c.Description != nil {
		p.Description = *c.Description
	}
	p.UpdatedAt = c.UpdatedAt.UTC()
	t.putProject(p)
	return p.clone(), nil
}

func (t *tables) liveProject(id string) (Project, error) {
	p, ok := t.projects[id]
	if !ok || p.DeletedAt != nil {
		return Project{}, fmt.Errorf("%w: project %q", ErrNotFound, id)
	}
	return p.clone(), nil
}

// applyDeleteProject returns the project as it was left: in the trash, or
// as it was before a permanent delete removed it.
func (t *tables) applyDeleteProject(c *DeleteProject) (Project, error) {
	if err := validateID("project ID", c.ProjectID); err != nil {
		return Project{}, err
	}
	if err := validateTime("deleted time", c.DeletedAt); err != nil {
		return Project{}, err
	}
	p, ok := t.projects[c.ProjectID]
	if !ok {
		return Project{}, fmt.Errorf("%w: project %q", ErrNotFound, c.ProjectID)
	}
	if c.Permanent {
		t.purgeProject(p)
		return p.clone(), nil
	}
	if p.DeletedAt != nil {
		return p.clone(), nil // already in the trash
	}
	return t.trashProject(p, c.DeletedAt.UTC()), nil
}

// purgeProject removes a project and all its models, live or trashed.
func (t *tables) purgeProject(p Project) {
	for _, id := range t.modelsIn(p.ID) {
		t.removeModel(t.models[id])
	}
	t.removeProject(p)
}

// trashProject marks a live project and its live models deleted at the
// same time.
func (t *tables) trashProject(p Project, at time.Time) Project {
	for _, id := range t.modelsIn(p.ID) {
		if m := t.models[id]; m.DeletedAt == nil {
			m = m.clone()
			m.DeletedAt = &at
			t.putModel(m)
		}
	}
	p = p.clone()
	p.DeletedAt = &at
	t.putProject(p)
	return p.clone()
}
