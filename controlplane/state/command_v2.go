package state

import "time"

// CreateWorkspace creates a team workspace with OwnerID as its first admin.
// Its slug shares one namespace with usernames.
type CreateWorkspace struct {
	WorkspaceID string    `json:"workspaceId"`
	Slug        string    `json:"slug"`
	Name        string    `json:"name"`
	OwnerID     string    `json:"ownerId"`
	Plan        Plan      `json:"plan,omitempty"`
	CreatedAt   time.Time `json:"createdAt"`
}

// AddMember grants a user a role in a team workspace.
type AddMember struct {
	WorkspaceID string    `json:"workspaceId"`
	UserID      string    `json:"userId"`
	Role        Role      `json:"role"`
	CreatedAt   time.Time `json:"createdAt"`
}

// UpdateMember changes a member's role. Demoting the last admin is
// rejected, so that every workspace keeps someone who can manage it.
type UpdateMember struct {
	WorkspaceID string `json:"workspaceId"`
	UserID      string `json:"userId"`
	Role        Role   `json:"role"`
}

// RemoveMember removes a user from a workspace. Removing the last admin is
// rejected like demoting it.
type RemoveMember struct {
	WorkspaceID string `json:"workspaceId"`
	UserID      string `json:"userId"`
}

// RestoreProject brings a trashed project back with the models that were
// trashed together with it (those with the project's DeletedAt).
type RestoreProject struct {
	ProjectID  string    `json:"projectId"`
	RestoredAt time.Time `json:"restoredAt"`
}

// RestoreModel brings a trashed model back into its project, which must be
// live.
type RestoreModel struct {
	ModelID    string    `json:"modelId"`
	RestoredAt time.Time `json:"restoredAt"`
}

// PurgeTrash permanently removes every project and model that went to the
// trash before Before. The proposer computes Before from its clock, so the
// apply function never reads one. An empty WorkspaceID purges every
// workspace.
type PurgeTrash struct {
	WorkspaceID string    `json:"workspaceId,omitempty"`
	Before      time.Time `json:"before"`
}

// RecordEvent stores one activity event.
type RecordEvent struct {
	Event Event `json:"event"`
}

// MarkEventsSeen marks events of a workspace seen. Empty EventIDs marks
// every event of the workspace. Unknown IDs are ignored, because events may
// be purged while the request is in flight.
type MarkEventsSeen struct {
	WorkspaceID string    `json:"workspaceId"`
	EventIDs    []string  `json:"eventIds,omitempty"`
	At          time.Time `json:"at"`
}

// ArchiveEvents archives events like MarkEventsSeen marks them seen.
type ArchiveEvents struct {
	WorkspaceID string    `json:"workspaceId"`
	EventIDs    []string  `json:"eventIds,omitempty"`
	At          time.Time `json:"at"`
}

func (*CreateWorkspace) CommandType() CommandType { return CmdCreateWorkspace }
func (*AddMember) CommandType() CommandType       { return CmdAddMember }
func (*UpdateMember) CommandType() CommandType    { return CmdUpdateMember }
func (*RemoveMember) CommandType() CommandType    { return CmdRemoveMember }
func (*RestoreProject) CommandType() CommandType  { return CmdRestoreProject }
func (*RestoreModel) CommandType() CommandType    { return CmdRestoreModel }
func (*PurgeTrash) CommandType() CommandType      { return CmdPurgeTrash }
func (*RecordEvent) CommandType() CommandType     { return CmdRecordEvent }
func (*MarkEventsSeen) CommandType() CommandType  { return CmdMarkEventsSeen }
func (*ArchiveEvents) CommandType() CommandType   { return CmdArchiveEvents }
