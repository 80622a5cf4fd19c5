package state

import "errors"

// Sentinel errors returned by Apply (as the raft response) and by the read
// methods. Callers match them with errors.Is; the wrapping message names the
// field and value involved.
var (
	// ErrNotFound reports that a referenced record does not exist or is
	// deleted.
	ErrNotFound = errors.New("not found")
	// ErrConflict reports that a unique name, slug, ID or key hash is already
	// taken.
	ErrConflict = errors.New("conflict")
	// ErrInvalid reports a malformed command, cursor or argument.
	ErrInvalid = errors.New("invalid")
	// ErrGone reports a record that exists but can no longer be used, such
	// as an invite that was accepted, revoked or has expired.
	ErrGone = errors.New("gone")
)
