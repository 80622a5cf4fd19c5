package state

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// RestoredProject is the result of RestoreProject.
type RestoredProject struct {
	Project Project
	Models  int // models restored with the project
}

// PurgeResult lists what PurgeTrash removed, sorted by ID, so the caller
// can delete blobs that no record references any more.
type PurgeResult struct {
	Projects []Project
	Models   []Model
}

func (t *tables) applyRestoreProject(c *RestoreProject) (RestoredProject, error) {
	if err := validateID("project ID", c.ProjectID); err != nil {
		return RestoredProject{}, err
	}
	if err := validateTime("restored time", c.RestoredAt); err != nil {
		return RestoredProject{}, err
	}
	p, ok := t.projects[c.ProjectID]
	if !ok || p.DeletedAt == nil {
		return RestoredProject{}, fmt.Errorf("%w: project %q is not in the trash", ErrNotFound, c.ProjectID)
	}
	if _, taken := t.projectBySlug[childKey(p.WorkspaceID, p.Slug)]; taken {
		return RestoredProject{}, fmt.Errorf("%w: project slug %q is taken by a newer project: rename that project first", ErrConflict, p.Slug)
	}
	deletedAt := *p.DeletedAt
	n := 0
	for _, id := range t.modelsIn(p.ID) {
		m := t.models[id]
		if m.DeletedAt == nil || !m.DeletedAt.Equal(deletedAt) {
			continue // deleted on its own before the project, so it stays in the trash
		}
		if _, taken := t.modelBySlug[childKey(m.ProjectID, m.Slug)]; taken {
			continue
		}
		m = m.clone()
		m.DeletedAt = nil
		m.UpdatedAt = c.RestoredAt.UTC()
		t.putModel(m)
		n++
	}
	p = p.clone()
	p.DeletedAt = nil
	p.UpdatedAt = c.RestoredAt.UTC()
	t.putProject(p)
	return RestoredProject{Project: p.clone(), Models: n}, nil
}

func (t *tables) applyRestoreModel(c *RestoreModel) (Model, error) {
	if err := validateID("model ID", c.ModelID); err != nil {
		return Model{}, err
	}
	if err := validateTime("restored time", c.RestoredAt); err != nil {
		return Model{}, err
	}
	m, ok := t.models[c.ModelID]
	if !ok || m.DeletedAt == nil {
		return Model{}, fmt.Errorf("%w: model %q is not in the trash", ErrNotFound, c.ModelID)
	}
	if _, err := t.liveProject(m.ProjectID); err != nil {
		return Model{}, fmt.Errorf("%w: the project of model %q is in the trash: restore the project instead", ErrInvalid, c.ModelID)
	}
	if _, taken := t.modelBySlug[childKey(m.ProjectID, m.Slug)]; taken {
		return Model{}, fmt.Errorf("%w: model slug %q is taken by a newer model: rename that model first", ErrConflict, m.Slug)
	}
	m = m.clone()
	m.DeletedAt = nil
	m.UpdatedAt = c.RestoredAt.UTC()
	t.putModel(m)
	return m.clone(), nil
}

func (t *tables) applyPurgeTrash(c *PurgeTrash) (PurgeResult, error) {
	if c.WorkspaceID != "" {
		if err := validateID("workspace ID", c.WorkspaceID); err != nil {
			return PurgeResult{}, err
		}
	}
	if err := validateTime("purge cutoff", c.Before); err != nil {
		return PurgeResult{}, err
	}
	expired := func(ws string, deletedAt *time.Time) bool {
		return deletedAt != nil && deletedAt.Before(c.Before) && (c.WorkspaceID == "" || ws == c.WorkspaceID)
	}
	var res PurgeResult
	for _, p := range sortedValues(t.projects, func(p Project) string { return p.ID }) {
		if !expired(p.WorkspaceID, p.DeletedAt) {
			continue
		}
		for _, id := range t.modelsIn(p.ID) {
			res.Models = append(res.Models, t.models[id].clone())
		}
		t.purgeProject(p)
		res.Projects = append(res.Projects, p.clone())
	}
	for _, m := range sortedValues(t.models, func(m Model) string { return m.ID }) {
		if expired(m.WorkspaceID, m.DeletedAt) {
			t.removeModel(m)
			res.Models = append(res.Models, m.clone())
		}
	}
	slices.SortFunc(res.Models, func(a, b Model) int { return cmp.Compare(a.ID, b.ID) })
	return res, nil
}
