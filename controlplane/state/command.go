package state

import (
	"encoding/json"
	"fmt"
	"time"
)

// CommandType is the first byte of every Raft log entry and names the
// command encoded in the rest of the entry.
type CommandType uint8

// Command numbers are written into the Raft log and into snapshots of it, so
// they are append-only: add new commands at the end with the next number and
// never reuse or renumber one, even after a command is retired.
const (
	CmdCreateUser    CommandType = 1
	CmdCreateAPIKey  CommandType = 2
	CmdRevokeAPIKey  CommandType = 3
	CmdTouchAPIKeys  CommandType = 4
	CmdCreateProject CommandType = 5
	CmdUpdateProject CommandType = 6
	CmdDeleteProject CommandType = 7
	CmdCreateModel   CommandType = 8
	CmdUpdateModel   CommandType = 9
	CmdDeleteModel   CommandType = 10

	CmdCreateWorkspace CommandType = 11
	CmdAddMember       CommandType = 12
	CmdUpdateMember    CommandType = 13
	CmdRemoveMember    CommandType = 14
	CmdRestoreProject  CommandType = 15
	CmdRestoreModel    CommandType = 16
	CmdPurgeTrash      CommandType = 17
	CmdRecordEvent     CommandType = 18
	CmdMarkEventsSeen  CommandType = 19
	CmdArchiveEvents   CommandType = 20
)

// Command is a change to the state. A command carries every ID, timestamp
// and random value its apply function needs, chosen by the proposer, so
// that every node applies it to the same result.
type Command interface {
	CommandType() CommandType
}

// Encode returns the log entry for cmd: its type byte followed by its JSON.
func Encode(cmd Command) ([]byte, error) {
	body, err := json.Marshal(cmd)
	if err != nil {
		return nil, fmt.Errorf("encode command %d: %w", cmd.CommandType(), err)
	}
	entry := make([]byte, 0, 1+len(body))
	entry = append(entry, byte(cmd.CommandType()))
	return append(entry, body...), nil
}

// Decode returns the command in a log entry written by Encode, for callers
// that carry entries themselves, such as a follower forwarding a write to
// the leader. It returns an ErrInvalid error for an empty entry, an unknown
// command type or a malformed body.
func Decode(entry []byte) (Command, error) {
	if len(entry) == 0 {
		return nil, fmt.Errorf("%w: empty log entry", ErrInvalid)
	}
	ct := CommandType(entry[0])
	cmd := newCommand(ct)
	if cmd == nil {
		return nil, fmt.Errorf("%w: unknown command type %d", ErrInvalid, ct)
	}
	if err := json.Unmarshal(entry[1:], cmd); err != nil {
		return nil, fmt.Errorf("%w: decode command %d: %w", ErrInvalid, ct, err)
	}
	return cmd, nil
}

// CheckEntry returns an ErrInvalid error unless entry has a command type
// this version decodes and a JSON body. A leader checks an entry that
// another voter encoded this way before it proposes it. It is cheaper than Decode, because it builds
// no command. An entry that passes but does not fit its command's fields
// still fails on apply, with the same error on every node.
func CheckEntry(entry []byte) error {
	if len(entry) == 0 {
		return fmt.Errorf("%w: empty log entry", ErrInvalid)
	}
	if newCommand(CommandType(entry[0])) == nil {
		return fmt.Errorf("%w: unknown command type %d", ErrInvalid, entry[0])
	}
	if !json.Valid(entry[1:]) {
		return fmt.Errorf("%w: command %d has a body that is not valid JSON", ErrInvalid, entry[0])
	}
	return nil
}

// newCommand returns a zero command of type t, or nil when this version does
// not know t.
func newCommand(t CommandType) Command {
	switch t {
	case CmdCreateUser:
		return &CreateUser{}
	case CmdCreateAPIKey:
		return &CreateAPIKey{}
	case CmdRevokeAPIKey:
		return &RevokeAPIKey{}
	case CmdTouchAPIKeys:
		return &TouchAPIKeys{}
	case CmdCreateProject:
		return &CreateProject{}
	case CmdUpdateProject:
		return &UpdateProject{}
	case CmdDeleteProject:
		return &DeleteProject{}
	case CmdCreateModel:
		return &CreateModel{}
	case CmdUpdateModel:
		return &UpdateModel{}
	case CmdDeleteModel:
		return &DeleteModel{}
	case CmdSetNodeAddr, CmdRecordUsage:
		return newClusterCommand(t)
	case CmdWithEvent:
		return &WithEvent{}
	}
	return newCommandV2(t)
}

// newCommandV2 decodes the command numbers from 11 on, which cover teams,
// the trash and activity.
func newCommandV2(t CommandType) Command {
	switch t {
	case CmdCreateWorkspace:
		return &CreateWorkspace{}
	case CmdAddMember:
		return &AddMember{}
	case CmdUpdateMember:
		return &UpdateMember{}
	case CmdRemoveMember:
		return &RemoveMember{}
	case CmdRestoreProject:
		return &RestoreProject{}
	case CmdRestoreModel:
		return &RestoreModel{}
	case CmdPurgeTrash:
		return &PurgeTrash{}
	case CmdRecordEvent:
		return &RecordEvent{}
	case CmdMarkEventsSeen:
		return &MarkEventsSeen{}
	case CmdArchiveEvents:
		return &ArchiveEvents{}
	}
	if cmd := newDeploymentCommand(t); cmd != nil {
		return cmd
	}
	return newAccountCommand(t)
}

// CreateUser creates a user, its personal workspace (slug = username, plan
// Plan or free when empty) and the user's admin membership in it, all in
// one entry so that no node ever stores a user without a workspace.
type CreateUser struct {
	UserID      string    `json:"userId"`
	WorkspaceID string    `json:"workspaceId"`
	Username    string    `json:"username"`
	Email       string    `json:"email,omitempty"`
	DisplayName string    `json:"displayName,omitempty"`
	Plan        Plan      `json:"plan,omitempty"`
	CreatedAt   time.Time `json:"createdAt"`
}

// CreateAPIKey stores a key for a user in a workspace the user is a member
// of. The proposer generates the key, hashes it and shows it once.
type CreateAPIKey struct {
	KeyID       string    `json:"keyId"`
	Name        string    `json:"name"`
	UserID      string    `json:"userId"`
	WorkspaceID string    `json:"workspaceId"`
	Hash        string    `json:"hash"`
	Prefix      string    `json:"prefix"`
	CreatedAt   time.Time `json:"createdAt"`
}

// RevokeAPIKey marks a key revoked. Revoking a revoked key changes nothing,
// so a proposal retried after a leader change is harmless.
type RevokeAPIKey struct {
	KeyID     string    `json:"keyId"`
	RevokedAt time.Time `json:"revokedAt"`
}

// KeyUse is one observed use of an API key.
type KeyUse struct {
	KeyID string    `json:"keyId"`
	At    time.Time `json:"at"`
}

// TouchAPIKeys records the last use of many keys at once, because one entry
// per request would cost a commit per request. LastUsedAt only moves
// forward, and uses of unknown keys are ignored because a key may be deleted
// while its uses are in flight.
type TouchAPIKeys struct {
	Uses []KeyUse `json:"uses"`
}

// CreateProject creates a project in a workspace.
type CreateProject struct {
	ProjectID   string    `json:"projectId"`
	WorkspaceID string    `json:"workspaceId"`
	Slug        string    `json:"slug"`
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	CreatedAt   time.Time `json:"createdAt"`
}

// UpdateProject changes the fields that are set (non-nil) and leaves the
// others as they are.
type UpdateProject struct {
	ProjectID   string    `json:"projectId"`
	Slug        *string   `json:"slug,omitempty"`
	Name        *string   `json:"name,omitempty"`
	Description *string   `json:"description,omitempty"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

// DeleteProject moves a project and its live models to the trash, marking
// them with the same DeletedAt so a restore can tell which models went with
// the project. Permanent removes the project and all its models instead.
type DeleteProject struct {
	ProjectID string    `json:"projectId"`
	DeletedAt time.Time `json:"deletedAt"`
	Permanent bool      `json:"permanent,omitempty"`
}

// CreateModel registers a model in a live project. WorkspaceID is taken
// from the project.
type CreateModel struct {
	ModelID    string            `json:"modelId"`
	ProjectID  string            `json:"projectId"`
	Slug       string            `json:"slug"`
	Name       string            `json:"name"`
	Task       string            `json:"task,omitempty"`
	Format     string            `json:"format"`
	FileSHA256 string            `json:"fileSha256,omitempty"`
	FileSize   int64             `json:"fileSize,omitempty"`
	Status     string            `json:"status"`
	Metadata   map[string]string `json:"metadata,omitempty"`
	CreatedAt  time.Time         `json:"createdAt"`
}

// UpdateModel changes the fields that are set (non-nil) and leaves the
// others as they are. A non-nil Metadata replaces the whole map. A new file
// (after an export, say) sets Format, FileSHA256 and FileSize together.
type UpdateModel struct {
	ModelID   string            `json:"modelId"`
	Slug      *string           `json:"slug,omitempty"`
	Name      *string           `json:"name,omitempty"`
	Task      *string           `json:"task,omitempty"`
	Status    *string           `json:"status,omitempty"`
	Metadata  map[string]string `json:"metadata"` // null keeps, {} clears
	File      *ModelFile        `json:"file,omitempty"`
	UpdatedAt time.Time         `json:"updatedAt"`
}

// ModelFile names a model's file in the blob store.
type ModelFile struct {
	Format string `json:"format"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// DeleteModel moves a model to the trash, or removes it when Permanent is
// set.
type DeleteModel struct {
	ModelID   string    `json:"modelId"`
	DeletedAt time.Time `json:"deletedAt"`
	Permanent bool      `json:"permanent,omitempty"`
}

// CommandType implementations tie each struct to its number.
func (*CreateUser) CommandType() CommandType    { return CmdCreateUser }
func (*CreateAPIKey) CommandType() CommandType  { return CmdCreateAPIKey }
func (*RevokeAPIKey) CommandType() CommandType  { return CmdRevokeAPIKey }
func (*TouchAPIKeys) CommandType() CommandType  { return CmdTouchAPIKeys }
func (*CreateProject) CommandType() CommandType { return CmdCreateProject }
func (*UpdateProject) CommandType() CommandType { return CmdUpdateProject }
func (*DeleteProject) CommandType() CommandType { return CmdDeleteProject }
func (*CreateModel) CommandType() CommandType   { return CmdCreateModel }
func (*UpdateModel) CommandType() CommandType   { return CmdUpdateModel }
func (*DeleteModel) CommandType() CommandType   { return CmdDeleteModel }
