package state

import (
	"maps"
	"time"
)

// Role is a member's permission level in a workspace.
type Role string

// Roles in increasing order of permission.
const (
	RoleViewer Role = "viewer"
	RoleEditor Role = "editor"
	RoleAdmin  Role = "admin"
)

// Plan is a workspace's billing plan, which sets its rate limits and quotas.
type Plan string

// Plans a workspace can be on.
const (
	PlanFree       Plan = "free"
	PlanPro        Plan = "pro"
	PlanEnterprise Plan = "enterprise"
)

// Model file formats.
const (
	FormatONNX    = "onnx"
	FormatPyTorch = "pt"
)

// Model statuses. A .pt upload needs an export to ONNX before it can serve
// predictions.
const (
	ModelStatusReady       = "ready"
	ModelStatusNeedsExport = "needs_export"
	ModelStatusExporting   = "exporting"
	ModelStatusFailed      = "failed"
)

// User is an account that signs in and owns a personal workspace.
type User struct {
	ID          string    `json:"id"`
	Username    string    `json:"username"`
	Email       string    `json:"email,omitempty"`
	DisplayName string    `json:"displayName,omitempty"`
	CreatedAt   time.Time `json:"createdAt"`
}

// Workspace owns projects, models and API keys. Slug is the owner segment
// of owner routes such as /api/models/{owner}/{project}/{model}, and shares
// one namespace with usernames.
type Workspace struct {
	ID        string    `json:"id"`
	Slug      string    `json:"slug"`
	Name      string    `json:"name"`
	Personal  bool      `json:"personal"`
	Plan      Plan      `json:"plan"`
	CreatedAt time.Time `json:"createdAt"`
}

// Member grants a user a role in a workspace.
type Member struct {
	WorkspaceID string    `json:"workspaceId"`
	UserID      string    `json:"userId"`
	Role        Role      `json:"role"`
	CreatedAt   time.Time `json:"createdAt"`
}

// APIKey is a stored API key. The key itself is never stored: Hash is the
// lowercase hex SHA-256 of the full key and Prefix its first characters,
// kept so users can tell their keys apart.
type APIKey struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	UserID      string     `json:"userId"`
	WorkspaceID string     `json:"workspaceId"`
	Hash        string     `json:"hash"`
	Prefix      string     `json:"prefix"`
	CreatedAt   time.Time  `json:"createdAt"`
	LastUsedAt  *time.Time `json:"lastUsedAt,omitempty"`
	Revoked     bool       `json:"revoked"`
	RevokedAt   *time.Time `json:"revokedAt,omitempty"`
}

// Project groups models inside a workspace. A deleted project keeps its
// record with DeletedAt set (the trash) and frees its slug.
type Project struct {
	ID          string     `json:"id"`
	WorkspaceID string     `json:"workspaceId"`
	Slug        string     `json:"slug"`
	Name        string     `json:"name"`
	Description string     `json:"description,omitempty"`
	CreatedAt   time.Time  `json:"createdAt"`
	UpdatedAt   time.Time  `json:"updatedAt"`
	DeletedAt   *time.Time `json:"deletedAt,omitempty"`
}

// Model is a model file registered in a project. The file itself lives in
// the blob store under FileSHA256. Metadata holds model information such as
// class names and input size; structured values are stored as JSON text.
type Model struct {
	ID          string            `json:"id"`
	ProjectID   string            `json:"projectId"`
	WorkspaceID string            `json:"workspaceId"`
	Slug        string            `json:"slug"`
	Name        string            `json:"name"`
	Task        string            `json:"task,omitempty"`
	Format      string            `json:"format"`
	FileSHA256  string            `json:"fileSha256,omitempty"`
	FileSize    int64             `json:"fileSize,omitempty"`
	Status      string            `json:"status"`
	Metadata    map[string]string `json:"metadata,omitempty"`
	CreatedAt   time.Time         `json:"createdAt"`
	UpdatedAt   time.Time         `json:"updatedAt"`
	DeletedAt   *time.Time        `json:"deletedAt,omitempty"`
}

func (k APIKey) clone() APIKey {
	k.LastUsedAt = cloneTime(k.LastUsedAt)
	k.RevokedAt = cloneTime(k.RevokedAt)
	return k
}

func (p Project) clone() Project {
	p.DeletedAt = cloneTime(p.DeletedAt)
	return p
}

func (m Model) clone() Model {
	m.DeletedAt = cloneTime(m.DeletedAt)
	m.Metadata = maps.Clone(m.Metadata)
	return m
}

func cloneTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}
