package gossip

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"

	"github.com/hashicorp/memberlist"
)

// ModelState is the state of one model on a node.
type ModelState string

// Model states. Peers keep states they do not know, so newer nodes may add
// states, but only ModelReady counts for NodesWithModel.
const (
	ModelWarming ModelState = "warming"
	ModelReady   ModelState = "ready"
	ModelFailed  ModelState = "failed"
)

// maxModelIDLen bounds model IDs so that one set stays small enough to
// gossip. Resource IDs are 24 characters, which leaves room for prefixes.
const maxModelIDLen = 128

func validateModels(models map[string]ModelState) error {
	for id, state := range models {
		if id == "" || len(id) > maxModelIDLen {
			return fmt.Errorf("invalid model ID %q: must be 1 to %d bytes", id, maxModelIDLen)
		}
		switch state {
		case ModelWarming, ModelReady, ModelFailed:
		default:
			return fmt.Errorf("invalid state %q of model %q: must be %s, %s or %s",
				state, id, ModelWarming, ModelReady, ModelFailed)
		}
	}
	return nil
}

// modelSet is one node's warm-model set as it travels between nodes. Epoch
// is the node's start time in Unix nanoseconds, so a restarted node, whose
// Version starts again at zero, still supersedes what peers remember of its
// previous run.
type modelSet struct {
	Node    string                `json:"n"`
	Epoch   int64                 `json:"e"`
	Version uint64                `json:"v"`
	Models  map[string]ModelState `json:"m"`
}

func (s modelSet) newerThan(old modelSet) bool {
	if s.Epoch != old.Epoch {
		return s.Epoch > old.Epoch
	}
	return s.Version > old.Version
}

func (s modelSet) clone() modelSet {
	s.Models = maps.Clone(s.Models)
	return s
}

// Message types, the first byte of every user message. Numbers are never
// reused.
const (
	msgModelSet byte = 1
)

// stateFormat is the first byte of the push-pull state.
const stateFormat byte = 1

// maxBroadcastSize bounds a model-set message sent by UDP broadcast. It
// leaves room under memberlist's default 1400-byte UDP buffer for the
// compound-message headers and memberlist's own piggybacked messages.
// Larger sets go to each peer over TCP instead.
const maxBroadcastSize = 1024

func encodeModelSetMsg(s modelSet) []byte {
	body, err := json.Marshal(s)
	if err != nil {
		panic("BUG: marshal model set: " + err.Error())
	}
	return append([]byte{msgModelSet}, body...)
}

func decodeModelSetMsg(b []byte) (modelSet, error) {
	if len(b) == 0 || b[0] != msgModelSet {
		return modelSet{}, errors.New("decode model set: not a model-set message")
	}
	var s modelSet
	if err := json.Unmarshal(b[1:], &s); err != nil {
		return modelSet{}, fmt.Errorf("decode model set: %w", err)
	}
	if s.Node == "" {
		return modelSet{}, errors.New("decode model set: missing node name")
	}
	return s, nil
}

func encodeState(sets []modelSet) []byte {
	body, err := json.Marshal(sets)
	if err != nil {
		panic("BUG: marshal push-pull state: " + err.Error())
	}
	return append([]byte{stateFormat}, body...)
}

func decodeState(b []byte) ([]modelSet, error) {
	if len(b) == 0 {
		return nil, nil
	}
	if b[0] != stateFormat {
		return nil, fmt.Errorf("decode push-pull state: unknown format %d, expected %d", b[0], stateFormat)
	}
	var sets []modelSet
	if err := json.Unmarshal(b[1:], &sets); err != nil {
		return nil, fmt.Errorf("decode push-pull state: %w", err)
	}
	return sets, nil
}

// modelBroadcast carries one node's model set through a
// memberlist.TransmitLimitedQueue. A newer set of the same node replaces
// an older one still in the queue.
type modelBroadcast struct {
	node string
	msg  []byte
}

var _ memberlist.NamedBroadcast = (*modelBroadcast)(nil)

func (b *modelBroadcast) Name() string { return "models/" + b.node }

func (b *modelBroadcast) Invalidates(other memberlist.Broadcast) bool {
	named, ok := other.(memberlist.NamedBroadcast)
	return ok && named.Name() == b.Name()
}

func (b *modelBroadcast) Message() []byte { return b.msg }

func (b *modelBroadcast) Finished() {}
