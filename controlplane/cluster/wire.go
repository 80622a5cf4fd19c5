package cluster

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/yoloplane/yoloplane/controlplane/state"
)

// applyResponse is the leader's reply to a forwarded command: the result
// and the index of an applied entry, or the kind and message of the error.
type applyResponse struct {
	Index  uint64          `json:"index,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	Kind   string          `json:"kind,omitempty"`
	Error  string          `json:"error,omitempty"`
}

// Error kinds on the wire. kindNotLeader tells the follower that the
// command was not applied, so that it may retry on the new leader.
const (
	kindNotFound  = "not_found"
	kindConflict  = "conflict"
	kindInvalid   = "invalid"
	kindGone      = "gone"
	kindNotLeader = "not_leader"
	kindOther     = "other"
)

func errorKind(err error) string {
	switch {
	case errors.Is(err, state.ErrNotFound):
		return kindNotFound
	case errors.Is(err, state.ErrConflict):
		return kindConflict
	case errors.Is(err, state.ErrInvalid):
		return kindInvalid
	case errors.Is(err, state.ErrGone):
		return kindGone
	}
	return kindOther
}

// remoteError is an error the leader returned. It matches the state
// sentinel of its kind with errors.Is.
type remoteError struct {
	kind error
	msg  string
}

func (e *remoteError) Error() string { return e.msg }
func (e *remoteError) Unwrap() error { return e.kind }

func errorFromWire(kind, msg string) error {
	var sentinel error
	switch kind {
	case kindNotFound:
		sentinel = state.ErrNotFound
	case kindConflict:
		sentinel = state.ErrConflict
	case kindInvalid:
		sentinel = state.ErrInvalid
	case kindGone:
		sentinel = state.ErrGone
	default:
		return fmt.Errorf("leader: %s", msg)
	}
	return &remoteError{kind: sentinel, msg: msg}
}

// resultDecoders turn a forwarded result back into the Go type the state
// machine returns for each command, so that callers' type assertions hold
// on followers as on the leader.
var resultDecoders = map[state.CommandType]func([]byte) (any, error){
	state.CmdCreateUser:      decodeAs[state.CreatedUser],
	state.CmdCreateAPIKey:    decodeAs[state.APIKey],
	state.CmdRevokeAPIKey:    decodeAs[state.APIKey],
	state.CmdTouchAPIKeys:    decodeAs[int],
	state.CmdCreateProject:   decodeAs[state.Project],
	state.CmdUpdateProject:   decodeAs[state.Project],
	state.CmdDeleteProject:   decodeAs[state.Project],
	state.CmdCreateModel:     decodeAs[state.Model],
	state.CmdUpdateModel:     decodeAs[state.Model],
	state.CmdDeleteModel:     decodeAs[state.Model],
	state.CmdCreateWorkspace: decodeAs[state.Workspace],
	state.CmdAddMember:       decodeAs[state.Member],
	state.CmdUpdateMember:    decodeAs[state.Member],
	state.CmdRemoveMember:    decodeAs[state.Member],
	state.CmdRestoreProject:  decodeAs[state.RestoredProject],
	state.CmdRestoreModel:    decodeAs[state.Model],
	state.CmdPurgeTrash:      decodeAs[state.PurgeResult],
	state.CmdRecordEvent:     decodeAs[state.Event],
	state.CmdMarkEventsSeen:  decodeAs[int],
	state.CmdArchiveEvents:   decodeAs[int],
	state.CmdSetNodeAddr:     decodeAs[state.NodeAddr],
	state.CmdRecordUsage:     decodeAs[int],

	state.CmdCreateDeployment:        decodeAs[state.Deployment],
	state.CmdUpdateDeploymentDesired: decodeAs[state.Deployment],
	state.CmdReplaceDeploymentModel:  decodeAs[state.Deployment],
	state.CmdPlaceDeployment:         decodeAs[state.Deployment],
	state.CmdSetDeploymentStatus:     decodeAs[state.Deployment],
	state.CmdDeleteDeployment:        decodeAs[state.Deployment],
	state.CmdUpdateSettings:          decodeAs[state.Settings],
	state.CmdSetFollow:               decodeAs[state.FollowState],
	state.CmdSetProjectIcon:          decodeAs[state.IconChange],
	state.CmdTrackModelDownload:      decodeAs[state.ModelDownloads],
	state.CmdCreateInvite:            decodeAs[state.Invite],
	state.CmdRevokeInvite:            decodeAs[state.Invite],
	state.CmdAcceptInvite:            decodeAs[state.AcceptedInvite],
	state.CmdResendInvite:            decodeAs[state.Invite],
	state.CmdSetUserAvatar:           decodeAs[state.AvatarChange],
}

func decodeAs[T any](b []byte) (any, error) {
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("decode result of forwarded command: %w", err)
	}
	return v, nil
}

func decodeResult(t state.CommandType, b []byte) (any, error) {
	dec, ok := resultDecoders[t]
	if !ok {
		// NOTE: a command added without a decoder here returns its result
		// as json.RawMessage on followers, and a type assertion on it fails.
		return json.RawMessage(b), nil
	}
	return dec(b)
}

// JoinRequest is the request to add a voter.
type JoinRequest struct {
	ID       string `json:"id"`
	RaftAddr string `json:"raftAddr"`
	HTTPAddr string `json:"httpAddr,omitempty"`
}

// Voter is one voter as the admin routes show it.
type Voter struct {
	ID       string `json:"id"`
	Address  string `json:"address"`
	HTTPAddr string `json:"httpAddress,omitempty"`
	Suffrage string `json:"suffrage"`
	Leader   bool   `json:"leader"`
}
