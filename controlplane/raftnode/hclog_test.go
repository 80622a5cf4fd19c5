package raftnode

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

// TestHclogAdapterFormatsFmtValues logs a value wrapped in hclog.Fmt, as
// raft does for its configuration, and checks that the line carries the
// formatted text and snake_case keys.
func TestHclogAdapterFormatsFmtValues(t *testing.T) {
	var buf bytes.Buffer
	log := newHclogAdapter(slog.New(slog.NewTextHandler(&buf, nil)), hclog.Info)
	log.Info("initial configuration", "leader-id", "n1", "servers", hclog.Fmt("%+v", []int{1, 2}))
	line := buf.String()
	if !strings.Contains(line, `servers="[1 2]"`) {
		t.Errorf("log line %q does not carry the formatted servers", line)
	}
	if !strings.Contains(line, "leader_id=n1") {
		t.Errorf("log line %q does not carry leader_id", line)
	}
}
