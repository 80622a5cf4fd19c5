package state

import "fmt"

func (c *CreateModel) validate() error {
	if err := validateID("model ID", c.ModelID); err != nil {
		return err
	}
	if err := validateID("project ID", c.ProjectID); err != nil {
		return err
	}
	if err := ValidateSlug("model slug", c.Slug); err != nil {
		return err
	}
	if err := validateText("model name", c.Name, maxNameLen, true); err != nil {
		return err
	}
	if err := validateTask(c.Task); err != nil {
		return err
	}
	if err := validateModelFile(ModelFile{Format: c.Format, SHA256: c.FileSHA256, Size: c.FileSize}); err != nil {
		return err
	}
	if err := validateModelStatus(c.Status); err != nil {
		return err
	}
	if err := validateMetadata(c.Metadata); err != nil {
		return err
	}
	return validateTime("created time", c.CreatedAt)
}

// validateModelFile accepts an empty hash, for a model whose file is not
// uploaded yet.
func validateModelFile(f ModelFile) error {
	if err := validateFormat(f.Format); err != nil {
		return err
	}
	if f.SHA256 != "" {
		if err := validateHex64("file SHA-256", f.SHA256); err != nil {
			return err
		}
	}
	if f.Size < 0 {
		return fmt.Errorf("%w: file size %d is negative", ErrInvalid, f.Size)
	}
	return nil
}

func (t *tables) applyCreateModel(c *CreateModel) (Model, error) {
	if err := c.validate(); err != nil {
		return Model{}, err
	}
	if _, ok := t.models[c.ModelID]; ok {
		return Model{}, fmt.Errorf("%w: model ID %q already exists", ErrConflict, c.ModelID)
	}
	p, err := t.liveProject(c.ProjectID)
	if err != nil {
		return Model{}, err
	}
	if _, ok := t.modelBySlug[childKey(p.ID, c.Slug)]; ok {
		return Model{}, fmt.Errorf("%w: model slug %q is taken in project %q", ErrConflict, c.Slug, p.Slug)
	}
	created := c.CreatedAt.UTC()
	m := Model{
		ID: c.ModelID, ProjectID: p.ID, WorkspaceID: p.WorkspaceID, Slug: c.Slug, Name: c.Name,
		Task: c.Task, Format: c.Format, FileSHA256: c.FileSHA256, FileSize: c.FileSize,
		Status: c.Status, Metadata: cloneMetadata(c.Metadata), CreatedAt: created, UpdatedAt: created,
	}
	t.putModel(m)
	return m.clone(), nil
}

func (c *UpdateModel) validate() error {
	if err := validateID("model ID", c.ModelID); err != nil {
		return err
	}
	if c.Slug != nil {
		if err := ValidateSlug("model slug", *c.Slug); err != nil {
			return err
		}
	}
	if c.Name != nil {
		if err := validateText("model name", *c.Name, maxNameLen, true); err != nil {
			return err
		}
	}
	if c.Task != nil {
		if err := validateTask(*c.Task); err != nil {
			return err
		}
	}
	if c.Status != nil {
		if err := validateModelStatus(*c.Status); err != nil {
			return err
		}
	}
	if c.File != nil {
		if err := validateModelFile(*c.File); err != nil {
			return err
		}
	}
	if err := validateMetadata(c.Metadata); err != nil {
		return err
	}
	return validateTime("updated time", c.UpdatedAt)
}

func (t *tables) applyUpdateModel(c *UpdateModel) (Model, error) {
	if err := c.validate(); err != nil {
		return Model{}, err
	}
	m, ok := t.models[c.ModelID]
	if !ok || m.DeletedAt != nil {
		return Model{}, fmt.Errorf("%w: model %q", ErrNotFound, c.ModelID)
	}
	m = m.clone()
	if c.Slug != nil && *c.Slug != m.Slug {
		if _, ok := t.modelBySlug[childKey(m.ProjectID, *c.Slug)]; ok {
			return Model{}, fmt.Errorf("%w: model slug %q is taken in this project", ErrConflict, *c.Slug)
		}
		m.Slug = *c.Slug
	}
	applyModelFields(&m, c)
	t.putModel(m)
	return m.clone(), nil
}

func applyModelFields(m *Model, c *UpdateModel) {
	if c.Name != nil {
		m.Name = *c.Name
	}
	if c.Task != nil {
		m.Task = *c.Task
	}
	if c.Status != nil {
		m.Status = *c.Status
	}
	if c.Metadata != nil {
		m.Metadata = cloneMetadata(c.Metadata)
	}
	if c.File != nil {
		m.Format, m.FileSHA256, m.FileSize = c.File.Format, c.File.SHA256, c.File.Size
	}
	m.UpdatedAt = c.UpdatedAt.UTC()
}

// applyDeleteModel returns the model as it was left, like
// applyDeleteProject.
func (t *tables) applyDeleteModel(c *DeleteModel) (Model, error) {
	if err := validateID("model ID", c.ModelID); err != nil {
		return Model{}, err
	}
	if err := validateTime("deleted time", c.DeletedAt); err != nil {
		return Model{}, err
	}
	m, ok := t.models[c.ModelID]
	if !ok {
		return Model{}, fmt.Errorf("%w: model %q", ErrNotFound, c.ModelID)
	}
	if c.Permanent {
		t.removeModel(m)
		return m.clone(), nil
	}
	if m.DeletedAt != nil {
		return m.clone(), nil // already in the trash
	}
	m = m.clone()
	at := c.DeletedAt.UTC()
	m.DeletedAt = &at
	t.putModel(m)
	return m.clone(), nil
}

// cloneMetadata copies md, turning an empty map into nil so that a record
// encodes the same before and after a snapshot round trip.
func cloneMetadata(md map[string]string) map[string]string {
	if len(md) == 0 {
		return nil
	}
	out := make(map[string]string, len(md))
	for k, v := range md {
		out[k] = v
	}
	return out
}
