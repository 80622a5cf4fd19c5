package state

import (
	"slices"
	"time"
)

// Commands and snapshot records of dedicated endpoints (deployments).
// Numbers from 60 up keep them apart from the resource and cluster
// commands.
const (
	CmdCreateDeployment        CommandType = 60
	CmdUpdateDeploymentDesired CommandType = 61
	CmdReplaceDeploymentModel  CommandType = 62
	CmdPlaceDeployment         CommandType = 63
	CmdSetDeploymentStatus     CommandType = 64
	CmdDeleteDeployment        CommandType = 65
)

const RecordDeployment RecordType = 60

// Deployment lifecycle statuses: creating → deploying → ready ⇄ stopped,
// and failed when a node cannot load the model.
const (
	DeploymentCreating  = "creating"
	DeploymentDeploying = "deploying"
	DeploymentReady     = "ready"
	DeploymentStopped   = "stopped"
	DeploymentFailed    = "failed"
)

// Desired states a user sets with start and stop.
const (
	DesiredRunning = "running"
	DesiredStopped = "stopped"
)

// DeploymentModel is the model revision a deployment serves, with the file
// the data-plane nodes download by hash.
type DeploymentModel struct {
	ModelID string `json:"modelId"`
	SHA256  string `json:"sha256"`
	Size    int64  `json:"size"`
}

// Deployment is a dedicated inference endpoint of one model in one region.
// Slug is the {deployment} segment of owner routes, unique per workspace.
type Deployment struct {
	ID          string          `json:"id"`
	WorkspaceID string          `json:"workspaceId"`
	Slug        string          `json:"slug"`
	Name        string          `json:"name"`
	Model       DeploymentModel `json:"model"`
	// Previous keeps serving during a replace until Model is warm.
	Previous *DeploymentModel `json:"previous,omitempty"`
	Region   string           `json:"region"`
	Status   string           `json:"status"`
	Desired  string           `json:"desired"`
	// Revision counts model replacements, starting at 1.
	Revision int64 `json:"revision"`
	// Nodes are the data-plane node IDs the deployment is placed on.
	Nodes         []string   `json:"nodes,omitempty"`
	StatusMessage string     `json:"statusMessage,omitempty"`
	CreatedAt     time.Time  `json:"createdAt"`
	UpdatedAt     time.Time  `json:"updatedAt"`
	DeployedAt    *time.Time `json:"deployedAt,omitempty"`
}

func (d Deployment) clone() Deployment {
	if d.Previous != nil {
		p := *d.Previous
		d.Previous = &p
	}
	d.Nodes = slices.Clone(d.Nodes)
	d.DeployedAt = cloneTime(d.DeployedAt)
	return d
}

// CreateDeployment creates a deployment of a live model in the model's
// workspace. The file hash and size are copied from the model record.
type CreateDeployment struct {
	DeploymentID string    `json:"deploymentId"`
	WorkspaceID  string    `json:"workspaceId"`
	Slug         string    `json:"slug"`
	Name         string    `json:"name"`
	ModelID      string    `json:"modelId"`
	Region       string    `json:"region"`
	CreatedAt    time.Time `json:"createdAt"`
}

// UpdateDeploymentDesired starts or stops a deployment. Stopping releases
// its nodes; starting sends it back through placement.
type UpdateDeploymentDesired struct {
	DeploymentID string    `json:"deploymentId"`
	Desired      string    `json:"desired"`
	UpdatedAt    time.Time `json:"updatedAt"`
}

// ReplaceDeploymentModel rolls out another model of the same workspace
// while keeping the deployment's ID, slug and URL. Name, when set, renames
// the deployment.
type ReplaceDeploymentModel struct {
	DeploymentID string    `json:"deploymentId"`
	ModelID      string    `json:"modelId"`
	Name         *string   `json:"name,omitempty"`
	UpdatedAt    time.Time `json:"updatedAt"`
}

// PlaceDeployment records the nodes a running deployment is placed on, its
// status and why, as decided by the fleet leader. Revision is the revision
// the decision was made for, so a stale decision is rejected.
type PlaceDeployment struct {
	DeploymentID string    `json:"deploymentId"`
	Revision     int64     `json:"revision"`
	Nodes        []string  `json:"nodes"`
	Status       string    `json:"status"`
	Message      string    `json:"message,omitempty"`
	UpdatedAt    time.Time `json:"updatedAt"`
}

// SetDeploymentStatus records what the assigned nodes report. Ready ends a
// replace: the previous model is dropped once the new one serves.
type SetDeploymentStatus struct {
	DeploymentID string    `json:"deploymentId"`
	Revision     int64     `json:"revision"`
	Status       string    `json:"status"`
	Message      string    `json:"message,omitempty"`
	UpdatedAt    time.Time `json:"updatedAt"`
}

// DeleteDeployment removes a deployment in any state.
type DeleteDeployment struct {
	DeploymentID string `json:"deploymentId"`
}

func (*CreateDeployment) CommandType() CommandType        { return CmdCreateDeployment }
func (*UpdateDeploymentDesired) CommandType() CommandType { return CmdUpdateDeploymentDesired }
func (*ReplaceDeploymentModel) CommandType() CommandType  { return CmdReplaceDeploymentModel }
func (*PlaceDeployment) CommandType() CommandType         { return CmdPlaceDeployment }
func (*SetDeploymentStatus) CommandType() CommandType     { return CmdSetDeploymentStatus }
func (*DeleteDeployment) CommandType() CommandType        { return CmdDeleteDeployment }

func newDeploymentCommand(t CommandType) Command {
	switch t {
	case CmdCreateDeployment:
		return &CreateDeployment{}
	case CmdUpdateDeploymentDesired:
		return &UpdateDeploymentDesired{}
	case CmdReplaceDeploymentModel:
		return &ReplaceDeploymentModel{}
	case CmdPlaceDeployment:
		return &PlaceDeployment{}
	case CmdSetDeploymentStatus:
		return &SetDeploymentStatus{}
	case CmdDeleteDeployment:
		return &DeleteDeployment{}
	}
	return nil
}

// dispatchDeployment applies the deployment commands. It reports false for
// a command it does not handle.
func (t *tables) dispatchDeployment(cmd Command) (any, bool) {
	switch c := cmd.(type) {
	case *CreateDeployment:
		return result(t.applyCreateDeployment(c)), true
	case *UpdateDeploymentDesired:
		return result(t.applyUpdateDeploymentDesired(c)), true
	case *ReplaceDeploymentModel:
		return result(t.applyReplaceDeploymentModel(c)), true
	case *PlaceDeployment:
		return result(t.applyPlaceDeployment(c)), true
	case *SetDeploymentStatus:
		return result(t.applySetDeploymentStatus(c)), true
	case *DeleteDeployment:
		return result(t.applyDeleteDeployment(c)), true
	}
	return nil, false
}

// deploymentTables contains the deployment records. Its fields are
// exported only so that go-cmp compares them in the snapshot tests.
type deploymentTables struct {
	ByID   map[string]Deployment
	BySlug map[string]string // workspace ID + "/" + slug → deployment ID
}

func newDeploymentTables() deploymentTables {
	return deploymentTables{ByID: map[string]Deployment{}, BySlug: map[string]string{}}
}

func (d *deploymentTables) put(dep Deployment) {
	d.ByID[dep.ID] = dep
	d.BySlug[childKey(dep.WorkspaceID, dep.Slug)] = dep.ID
}

func (d *deploymentTables) remove(dep Deployment) {
	delete(d.ByID, dep.ID)
	delete(d.BySlug, childKey(dep.WorkspaceID, dep.Slug))
}

func (d *deploymentTables) load(dep Deployment) error {
	if _, ok := d.ByID[dep.ID]; ok {
		return conflictf("deployment %q appears twice", dep.ID)
	}
	if _, ok := d.BySlug[childKey(dep.WorkspaceID, dep.Slug)]; ok {
		return conflictf("deployment slug %q appears twice in workspace %q", dep.Slug, dep.WorkspaceID)
	}
	d.put(dep)
	return nil
}

func (d *deploymentTables) sorted() []Deployment {
	return sortedValues(d.ByID, func(dep Deployment) string { return dep.ID })
}
