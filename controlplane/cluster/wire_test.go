package cluster

import (
	"errors"
	"testing"

	"github.com/yoloplane/yoloplane/controlplane/state"
)

// TestEveryCommandHasResultDecoder walks every command type this version
// decodes and checks that a follower can turn its forwarded result back
// into the state machine's Go type. A WithEvent result has the type of the
// command it wraps, so it needs no decoder of its own.
func TestEveryCommandHasResultDecoder(t *testing.T) {
	for i := range 256 {
		ct := state.CommandType(i)
		if ct == state.CmdWithEvent {
			continue
		}
		if _, err := state.Decode([]byte{byte(ct), '{', '}'}); err != nil {
			continue // not a command of this version
		}
		if _, ok := resultDecoders[ct]; !ok {
			t.Errorf("command type %d has no result decoder", ct)
		}
	}
}

// TestErrorKindsRoundTrip checks that each state error keeps its sentinel
// after the trip from leader to follower.
func TestErrorKindsRoundTrip(t *testing.T) {
	for _, sentinel := range []error{state.ErrNotFound, state.ErrConflict, state.ErrInvalid, state.ErrGone} {
		err := errorFromWire(errorKind(sentinel), sentinel.Error())
		if !errors.Is(err, sentinel) {
			t.Errorf("%v came back as %v", sentinel, err)
		}
	}
}
