package raftnode

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-hclog"

	"github.com/yoloplane/yoloplane/controlplane/state"
)

func TestSingleVoterApply(t *testing.T) {
	n := openNode(t, testConfig("n1", t.TempDir(), true))
	defer n.Close()
	waitReady(t, n)
	ctx := ctxTimeout(t, 10*time.Second)

	res, err := n.Apply(ctx, createUser())
	if err != nil {
		t.Fatalf("Apply(CreateUser): %v", err)
	}
	if got := res.(state.CreatedUser).Workspace.Slug; got != "ada" {
		t.Errorf("workspace slug = %q, want ada", got)
	}
	if _, err := n.Apply(ctx, createUser()); !errors.Is(err, state.ErrConflict) {
		t.Errorf("second CreateUser: err = %v, want state.ErrConflict", err)
	}
	if _, ok := n.FSM().UserByUsername("ada"); !ok {
		t.Errorf("user missing from the FSM after Apply returned")
	}
	if !n.IsLeader() {
		t.Errorf("IsLeader = false on a bootstrapped single voter")
	}
	if id, addr := n.Leader(); id != "n1" || addr != n.Addr() {
		t.Errorf("Leader() = %s, %s, want n1, %s", id, addr, n.Addr())
	}
	if err := n.VerifyLeader(ctx); err != nil {
		t.Errorf("VerifyLeader: %v", err)
	}
	want := []Server{{ID: "n1", Addr: n.Addr(), Suffrage: "Voter", Leader: true}}
	got, err := n.Servers()
	if err != nil {
		t.Fatalf("Servers: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Servers (-want +got):\n%s", diff)
	}
}

func TestApplyConcurrent(t *testing.T) {
	n := openNode(t, testConfig("n1", t.TempDir(), true))
	defer n.Close()
	waitReady(t, n)
	ctx := ctxTimeout(t, 20*time.Second)
	if _, err := n.Apply(ctx, createUser()); err != nil {
		t.Fatalf("Apply(CreateUser): %v", err)
	}

	const writes = 300
	errs := make(chan error, writes)
	var wg sync.WaitGroup
	for i := range writes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := n.Apply(ctx, createProject(i))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Apply(CreateProject): %v", err)
		}
	}
	ps, _, err := n.FSM().ListProjects(id(2), "", state.MaxListLimit)
	if err != nil {
		t.Fatalf("ListProjects: %v", err)
	}
	if len(ps) != writes {
		t.Errorf("%d projects after %d concurrent writes", len(ps), writes)
	}
}

// fsmDump returns a snapshot of f, which is equal for equal states.
func fsmDump(tb testing.TB, f *state.FSM) []byte {
	tb.Helper()
	snap, err := f.Snapshot()
	if err != nil {
		tb.Fatalf("Snapshot: %v", err)
	}
	var sink bufSink
	if err := snap.Persist(&sink); err != nil {
		tb.Fatalf("Persist: %v", err)
	}
	return sink.Bytes()
}

type bufSink struct{ bytes.Buffer }

func (*bufSink) ID() string    { return "test" }
func (*bufSink) Close() error  { return nil }
func (*bufSink) Cancel() error { return nil }

func TestRestartRestoresState(t *testing.T) {
	tests := []struct {
		name     string
		snapshot bool
	}{
		{"log only", false},
		{"snapshot and log", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := testConfig("n1", dir, true)
			n := openNode(t, cfg)
			waitReady(t, n)
			ctx := ctxTimeout(t, 20*time.Second)
			mustApply(t, n, createUser())
			for i := range 20 {
				mustApply(t, n, createProject(i))
			}
			if tt.snapshot {
				if err := n.Snapshot(); err != nil {
					t.Fatalf("Snapshot: %v", err)
				}
			}
			for i := 20; i < 30; i++ {
				mustApply(t, n, createProject(i))
			}
			mustApply(t, n, &state.DeleteProject{ProjectID: id(1005), DeletedAt: t0})
			want := fsmDump(t, n.FSM())
			if err := n.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}

			// Bootstrap stays set, as it would in a restarted server: it
			// must not form a new cluster over the existing state.
			cfg.RaftAddr = n.Addr()
			n2 := openNode(t, cfg)
			defer n2.Close()
			waitReady(t, n2)
			if got := fsmDump(t, n2.FSM()); !bytes.Equal(got, want) {
				t.Errorf("state after restart differs from state before")
			}
			if _, ok := n2.FSM().ProjectBySlug(id(2), "p29"); !ok {
				t.Errorf("last project missing after restart")
			}
			if _, err := n2.Apply(ctx, createProject(30)); err != nil {
				t.Errorf("Apply after restart: %v", err)
			}
		})
	}
}

func mustApply(tb testing.TB, n *Node, cmd state.Command) any {
	tb.Helper()
	res, err := n.Apply(ctxTimeout(tb, 20*time.Second), cmd)
	if err != nil {
		tb.Fatalf("Apply(%T) on %s: %v", cmd, n.ID(), err)
	}
	return res
}

func TestNoBootstrapStaysAlone(t *testing.T) {
	n := openNode(t, testConfig("n1", t.TempDir(), false))
	defer n.Close()

	_, err := n.Apply(ctxTimeout(t, 5*time.Second), createUser())
	var nle *NotLeaderError
	if !errors.As(err, &nle) || !errors.Is(err, ErrNotLeader) {
		t.Fatalf("Apply on a lone node: err = %v, want *NotLeaderError", err)
	}
	if nle.LeaderAddr != "" {
		t.Errorf("NotLeaderError.LeaderAddr = %q, want empty", nle.LeaderAddr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if err := n.WaitReady(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitReady on a lone node: err = %v, want context.DeadlineExceeded", err)
	}
	if servers, err := n.Servers(); err != nil || len(servers) != 0 {
		t.Errorf("Servers() = %v, %v, want no servers", servers, err)
	}
}

func TestApplyCanceledContext(t *testing.T) {
	n := openNode(t, testConfig("n1", t.TempDir(), true))
	defer n.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := n.Apply(ctx, createUser()); !errors.Is(err, context.Canceled) {
		t.Errorf("Apply with a canceled context: err = %v, want context.Canceled", err)
	}
}

func TestConfigValidate(t *testing.T) {
	valid := testConfig("n1", "/tmp/x", true)
	tests := []struct {
		name   string
		change func(*Config)
		msg    string
	}{
		{"valid", func(*Config) {}, ""},
		{"no node ID", func(c *Config) { c.NodeID = "" }, "node ID"},
		{"no data dir", func(c *Config) { c.DataDir = "" }, "data directory"},
		{"bad address", func(c *Config) { c.RaftAddr = "localhost" }, "raft address"},
		{"bad advertise", func(c *Config) { c.AdvertiseAddr = "x:y:z" }, "advertise address"},
		{"no retained snapshots", func(c *Config) { c.SnapshotRetain = 0 }, "snapshot retain"},
		{"huge batch", func(c *Config) { c.MaxAppendEntries = 5000 }, "5000"},
		{"no pool", func(c *Config) { c.TransportMaxPool = 0 }, "pool"},
		{"no transport timeout", func(c *Config) { c.TransportTimeout = 0 }, "transport timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid
			tt.change(&c)
			err := c.Validate()
			if tt.msg == "" {
				if err != nil {
					t.Errorf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Validate() = %v, want an error mentioning %q", err, tt.msg)
			}
		})
	}
}

func TestOpenRejectsBadTiming(t *testing.T) {
	cfg := testConfig("n1", t.TempDir(), true)
	cfg.LeaderLeaseTimeout = time.Hour // raft requires it below the heartbeat timeout
	if n, err := Open(cfg, state.New()); err == nil {
		n.Close()
		t.Fatalf("Open succeeded with a lease timeout above the heartbeat timeout")
	}
	// The failed Open must release raft.db so that a corrected config
	// opens the same directory.
	cfg.LeaderLeaseTimeout = 150 * time.Millisecond
	n := openNode(t, cfg)
	n.Close()
}

func TestHclogAdapter(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a := newHclogAdapter(logger, hclog.Debug)

	a.Named("raft").With("peer-id", "n2").Info("entering follower state", "commit-index", 7)
	a.Trace("dropped because trace is below the level")
	line := buf.String()
	for _, want := range []string{`msg="entering follower state"`, "logger=raft", "peer_id=n2", "commit_index=7", "level=INFO"} {
		if !strings.Contains(line, want) {
			t.Errorf("log output %q does not contain %q", line, want)
		}
	}
	if strings.Contains(line, "dropped") {
		t.Errorf("a trace line was logged at debug level: %q", line)
	}
	if !a.IsDebug() || a.IsTrace() {
		t.Errorf("IsDebug=%v IsTrace=%v, want true, false", a.IsDebug(), a.IsTrace())
	}
	buf.Reset()
	a.StandardLogger(&hclog.StandardLoggerOptions{ForceLevel: hclog.Warn}).Print("from the standard logger")
	if got := buf.String(); !strings.Contains(got, "level=WARN") || !strings.Contains(got, "from the standard logger") {
		t.Errorf("standard logger output = %q, want a WARN line", got)
	}
}
