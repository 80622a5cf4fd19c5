package state

import (
	"fmt"
	"slices"
	"time"

	"github.com/yoloplane/yoloplane/regions"
)

// maxDeploymentNodes bounds the nodes one deployment is placed on. Nodes
// hold one warm session each, so more than a region's worth makes no sense.
const maxDeploymentNodes = 64

func conflictf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrConflict, fmt.Sprintf(format, args...))
}

func (c *CreateDeployment) validate() error {
	if err := validateID("deployment ID", c.DeploymentID); err != nil {
		return err
	}
	if err := validateID("workspace ID", c.WorkspaceID); err != nil {
		return err
	}
	if err := validateID("model ID", c.ModelID); err != nil {
		return err
	}
	if err := ValidateSlug("deployment slug", c.Slug); err != nil {
		return err
	}
	if err := validateText("deployment name", c.Name, maxNameLen, true); err != nil {
		return err
	}
	if _, ok := regions.Lookup(c.Region); !ok {
		return fmt.Errorf("%w: region %q is not in the region catalog", ErrInvalid, c.Region)
	}
	return validateTime("created time", c.CreatedAt)
}

// servableModel returns the model a deployment of workspaceID may serve: a
// live model of that workspace with an ONNX file.
func (t *tables) servableModel(workspaceID, modelID string) (DeploymentModel, error) {
	m, ok := t.models[modelID]
	if !ok || m.DeletedAt != nil || m.WorkspaceID != workspaceID {
		return DeploymentModel{}, fmt.Errorf("%w: model %q in workspace %q", ErrNotFound, modelID, workspaceID)
	}
	if m.Format != FormatONNX || m.FileSHA256 == "" {
		return DeploymentModel{}, fmt.Errorf("%w: model %q has no ONNX file (format %s, status %s) and cannot be deployed", ErrInvalid, modelID, m.Format, m.Status)
	}
	return DeploymentModel{ModelID: m.ID, SHA256: m.FileSHA256, Size: m.FileSize}, nil
}

func (t *tables) applyCreateDeployment(c *CreateDeployment) (Deployment, error) {
	if err := c.validate(); err != nil {
		return Deployment{}, err
	}
	if _, ok := t.deployments.ByID[c.DeploymentID]; ok {
		return Deployment{}, conflictf("deployment ID %q already exists", c.DeploymentID)
	}
	if _, ok := t.workspaces[c.WorkspaceID]; !ok {
		return Deployment{}, fmt.Errorf("%w: workspace %q", ErrNotFound, c.WorkspaceID)
	}
	if _, ok := t.deployments.BySlug[childKey(c.WorkspaceID, c.Slug)]; ok {
		return Deployment{}, conflictf("deployment name %q is taken in this workspace", c.Slug)
	}
	model, err := t.servableModel(c.WorkspaceID, c.ModelID)
	if err != nil {
		return Deployment{}, err
	}
	created := c.CreatedAt.UTC()
	d := Deployment{
		ID: c.DeploymentID, WorkspaceID: c.WorkspaceID, Slug: c.Slug, Name: c.Name, Model: model,
		Region: c.Region, Status: DeploymentCreating, Desired: DesiredRunning, Revision: 1,
		CreatedAt: created, UpdatedAt: created,
	}
	t.deployments.put(d)
	return d.clone(), nil
}

func (t *tables) deployment(id string) (Deployment, error) {
	if err := validateID("deployment ID", id); err != nil {
		return Deployment{}, err
	}
	d, ok := t.deployments.ByID[id]
	if !ok {
		return Deployment{}, fmt.Errorf("%w: deployment %q", ErrNotFound, id)
	}
	return d.clone(), nil
}

// applyUpdateDeploymentDesired is idempotent: starting a running deployment
// changes nothing, so a retried proposal does not restart a placement.
func (t *tables) applyUpdateDeploymentDesired(c *UpdateDeploymentDesired) (Deployment, error) {
	d, err := t.deployment(c.DeploymentID)
	if err != nil {
		return Deployment{}, err
	}
	if err := validateTime("updated time", c.UpdatedAt); err != nil {
		return Deployment{}, err
	}
	switch c.Desired {
	case DesiredRunning:
		if d.Desired == DesiredRunning {
			return d, nil
		}
		d.Status, d.StatusMessage = DeploymentDeploying, ""
	case DesiredStopped:
		d.Status, d.StatusMessage, d.Previous = DeploymentStopped, "", nil
	default:
		return Deployment{}, fmt.Errorf("%w: desired state %q must be running or stopped", ErrInvalid, c.Desired)
	}
	d.Desired, d.Nodes, d.UpdatedAt = c.Desired, nil, c.UpdatedAt.UTC()
	t.deployments.put(d)
	return d.clone(), nil
}

// applyReplaceDeploymentModel keeps the model that serves now as Previous.
// During a replace that is not warm yet, the earlier Previous still serves
// and stays.
func (t *tables) applyReplaceDeploymentModel(c *ReplaceDeploymentModel) (Deployment, error) {
	d, err := t.deployment(c.DeploymentID)
	if err != nil {
		return Deployment{}, err
	}
	if err := validateTime("updated time", c.UpdatedAt); err != nil {
		return Deployment{}, err
	}
	if c.Name != nil {
		if err := validateText("deployment name", *c.Name, maxNameLen, true); err != nil {
			return Deployment{}, err
		}
		d.Name = *c.Name
	}
	model, err := t.servableModel(d.WorkspaceID, c.ModelID)
	if err != nil {
		return Deployment{}, err
	}
	if d.Status == DeploymentReady {
		prev := d.Model
		d.Previous = &prev
	}
	d.Model = model
	d.Revision++
	if d.Desired == DesiredRunning {
		d.Status, d.StatusMessage = DeploymentDeploying, "rolling out model "+model.ModelID
	}
	d.UpdatedAt = c.UpdatedAt.UTC()
	t.deployments.put(d)
	return d.clone(), nil
}

// runningAt returns the deployment when it still runs at revision, and a
// conflict for a decision made on an older view of it.
func (t *tables) runningAt(id string, revision int64) (Deployment, error) {
	d, err := t.deployment(id)
	if err != nil {
		return Deployment{}, err
	}
	if d.Revision != revision {
		return Deployment{}, conflictf("deployment %q is at revision %d, not %d", id, d.Revision, revision)
	}
	if d.Desired != DesiredRunning {
		return Deployment{}, conflictf("deployment %q is stopped", id)
	}
	return d, nil
}

func validateFleetStatus(status string) error {
	switch status {
	case DeploymentDeploying, DeploymentReady, DeploymentFailed:
		return nil
	}
	return fmt.Errorf("%w: deployment status %q must be deploying, ready or failed", ErrInvalid, status)
}

func validateNodes(nodes []string) error {
	if len(nodes) > maxDeploymentNodes {
		return fmt.Errorf("%w: %d nodes is more than the maximum %d", ErrInvalid, len(nodes), maxDeploymentNodes)
	}
	for _, n := range nodes {
		if n == "" || len(n) > 256 {
			return fmt.Errorf("%w: node ID %q must be 1 to 256 bytes", ErrInvalid, n)
		}
	}
	return nil
}

func (t *tables) applyPlaceDeployment(c *PlaceDeployment) (Deployment, error) {
	if err := validateNodes(c.Nodes); err != nil {
		return Deployment{}, err
	}
	if err := validateFleetStatus(c.Status); err != nil {
		return Deployment{}, err
	}
	if err := validateText("status message", c.Message, maxDescriptionLen, false); err != nil {
		return Deployment{}, err
	}
	if err := validateTime("updated time", c.UpdatedAt); err != nil {
		return Deployment{}, err
	}
	d, err := t.runningAt(c.DeploymentID, c.Revision)
	if err != nil {
		return Deployment{}, err
	}
	d.Nodes = slices.Clone(c.Nodes)
	setStatus(&d, c.Status, c.Message, c.UpdatedAt)
	t.deployments.put(d)
	return d.clone(), nil
}

func (t *tables) applySetDeploymentStatus(c *SetDeploymentStatus) (Deployment, error) {
	if err := validateFleetStatus(c.Status); err != nil {
		return Deployment{}, err
	}
	if err := validateText("status message", c.Message, maxDescriptionLen, false); err != nil {
		return Deployment{}, err
	}
	if err := validateTime("updated time", c.UpdatedAt); err != nil {
		return Deployment{}, err
	}
	d, err := t.runningAt(c.DeploymentID, c.Revision)
	if err != nil {
		return Deployment{}, err
	}
	setStatus(&d, c.Status, c.Message, c.UpdatedAt)
	t.deployments.put(d)
	return d.clone(), nil
}

// setStatus sets status and message. Ready ends a replace and records the
// first time the current revision served.
func setStatus(d *Deployment, status, message string, at time.Time) {
	at = at.UTC()
	d.UpdatedAt = at
	if status == DeploymentReady {
		d.Previous = nil
		if d.Status != DeploymentReady {
			d.DeployedAt = &at
		}
	}
	d.Status, d.StatusMessage = status, message
}

func (t *tables) applyDeleteDeployment(c *DeleteDeployment) (Deployment, error) {
	d, err := t.deployment(c.DeploymentID)
	if err != nil {
		return Deployment{}, err
	}
	t.deployments.remove(d)
	return d, nil
}
