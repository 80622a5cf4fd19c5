package gossip

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hashicorp/memberlist"
)

// ErrMetaTooLarge is returned, wrapped, when a node's encoded metadata would
// exceed memberlist.MetaMaxSize bytes. memberlist panics on larger metadata,
// so the pool checks the size before handing it over.
var ErrMetaTooLarge = errors.New("node metadata too large")

// metaFormat is the first byte of encoded metadata. A node that cannot
// decode a peer's metadata rejects the peer, so a change of layout needs a
// new format number and a rolling upgrade that decodes both.
const metaFormat byte = 1

// nodeMeta is the metadata a node advertises in memberlist's node meta. The JSON
// keys are one letter because the whole record must fit in 512 bytes.
type nodeMeta struct {
	Region        string  `json:"r"`
	HTTPAddr      string  `json:"h"`
	Capacity      int     `json:"c"`
	Load          float64 `json:"l"`
	ModelsVersion uint64  `json:"v"`
}

func encodeMeta(m nodeMeta) ([]byte, error) {
	body, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode node metadata: %w", err)
	}
	out := append([]byte{metaFormat}, body...)
	if len(out) > memberlist.MetaMaxSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrMetaTooLarge, len(out), memberlist.MetaMaxSize)
	}
	return out, nil
}

func decodeMeta(b []byte) (nodeMeta, error) {
	if len(b) == 0 {
		return nodeMeta{}, errors.New("decode node metadata: empty")
	}
	if b[0] != metaFormat {
		return nodeMeta{}, fmt.Errorf("decode node metadata: unknown format %d, expected %d", b[0], metaFormat)
	}
	var m nodeMeta
	if err := json.Unmarshal(b[1:], &m); err != nil {
		return nodeMeta{}, fmt.Errorf("decode node metadata: %w", err)
	}
	return m, nil
}
