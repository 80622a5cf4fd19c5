package raftnode

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/yoloplane/yoloplane/controlplane/state"
)

var raftLog = flag.Bool("raft.log", false, "print raft's log lines at debug level to stderr")

var t0 = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

func id(n int) string { return fmt.Sprintf("%024x", n) }

// testConfig returns a config with timeouts short enough for loopback but
// long enough that a loaded two-core machine does not flap leadership.
func testConfig(nodeID, dir string, bootstrap bool) Config {
	cfg := DefaultConfig()
	cfg.NodeID = nodeID
	cfg.DataDir = dir
	cfg.Bootstrap = bootstrap
	cfg.HeartbeatTimeout = 300 * time.Millisecond
	cfg.ElectionTimeout = 300 * time.Millisecond
	cfg.LeaderLeaseTimeout = 150 * time.Millisecond
	cfg.CommitTimeout = 5 * time.Millisecond
	cfg.TransportTimeout = 2 * time.Second
	cfg.Logger = slog.New(slog.DiscardHandler)
	if *raftLog {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slogLevelTrace}))
		cfg.Logger = cfg.Logger.With("node", nodeID)
	}
	return cfg
}

func openNode(tb testing.TB, cfg Config) *Node {
	tb.Helper()
	n, err := Open(cfg, state.New())
	if err != nil {
		tb.Fatalf("Open(%s): %v", cfg.NodeID, err)
	}
	return n
}

func ctxTimeout(tb testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	tb.Cleanup(cancel)
	return ctx
}

func waitReady(tb testing.TB, n *Node) {
	tb.Helper()
	if err := n.WaitReady(ctxTimeout(tb, 20*time.Second)); err != nil {
		tb.Fatalf("WaitReady(%s): %v", n.ID(), err)
	}
}

// eventually polls cond until it returns true or the deadline passes.
func eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func createUser() *state.CreateUser {
	return &state.CreateUser{UserID: id(1), WorkspaceID: id(2), Username: "ada", CreatedAt: t0}
}

// createProject returns the n-th test project in the test user's workspace.
func createProject(n int) *state.CreateProject {
	return &state.CreateProject{
		ProjectID: id(1000 + n), WorkspaceID: id(2), Slug: fmt.Sprintf("p%d", n),
		Name: fmt.Sprintf("project %d", n), CreatedAt: t0.Add(time.Duration(n) * time.Second),
	}
}
