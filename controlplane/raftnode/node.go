package raftnode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"

	"github.com/yoloplane/yoloplane/controlplane/state"
)

// ErrNotLeader reports that this node is not the leader. The error Apply
// and the membership methods return is a *NotLeaderError, which matches
// ErrNotLeader with errors.Is and names the leader when one is known.
var ErrNotLeader = errors.New("not the raft leader")

// NotLeaderError carries the leader that a rejected request should go to.
// LeaderID and LeaderAddr are empty while no leader is known.
type NotLeaderError struct {
	LeaderID   string
	LeaderAddr string
}

func (e *NotLeaderError) Error() string {
	if e.LeaderAddr == "" {
		return "not the raft leader, and no leader is known"
	}
	return fmt.Sprintf("not the raft leader: the leader is %s at %s", e.LeaderID, e.LeaderAddr)
}

// Is makes errors.Is(err, ErrNotLeader) true.
func (e *NotLeaderError) Is(target error) bool { return target == ErrNotLeader }

// Forwarder sends a command to the leader and returns the leader's result.
// Apply calls it on a follower, from the caller's goroutine, when a leader
// is known. It must honor ctx.
type Forwarder func(ctx context.Context, leaderID, leaderAddr string, cmd state.Command) (any, error)

// wrapLogStore, when set by a test, wraps the log store that raft writes
// through, below the early sending to followers.
var wrapLogStore func(nodeID string, s raft.LogStore) raft.LogStore

// logCacheSize is how many recent log entries stay in memory: two full
// AppendEntries batches at the default MaxAppendEntries.
const logCacheSize = 1024

// Server is one member of the cluster configuration.
type Server struct {
	ID       string
	Addr     string
	Suffrage string // "Voter", "Nonvoter" or "Staging", as raft names them
	Leader   bool
}

// Node is a running Raft voter. Create one with Open and stop it with Close.
type Node struct {
	cfg     Config
	fsm     *state.FSM
	raft    *raft.Raft
	trans   *raft.NetworkTransport
	tracker *commitTracker
	store   *raftboltdb.BoltStore
	logs    *raft.LogCache // recent entries of store, for raft's log reads
	forward atomic.Pointer[Forwarder]
	// notifier sends followers commit indexes ahead of raft.
	notifier commitNotifier
	// presender sends a follower new entries ahead of raft.
	presender presender
	// started is set once n.raft is, because raft's goroutines may store
	// entries before NewRaft returns.
	started atomic.Bool

	closeOnce sync.Once
	closeErr  error
}

// Open starts a voter on cfg.DataDir, restoring the latest snapshot and
// replaying the log into fsm. With cfg.Bootstrap set and no Raft state on
// disk, it forms a new cluster of one voter. Otherwise it waits for a
// leader to contact it.
func Open(cfg Config, fsm *state.FSM) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid raft config: %w", err)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create raft data directory: %w", err)
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	hlog := newHclogAdapter(logger, hclog.Debug)

	n := &Node{cfg: cfg, fsm: fsm}
	if err := n.openStores(); err != nil {
		return nil, err
	}
	if err := n.start(hlog); err != nil {
		n.store.Close()
		if n.trans != nil {
			n.trans.Close()
		}
		return nil, err
	}
	return n, nil
}

func (n *Node) openStores() error {
	store, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(n.cfg.DataDir, "raft.db")})
	if err != nil {
		return fmt.Errorf("open raft log store: %w", err)
	}
	n.store = store
	return nil
}

func (n *Node) start(hlog hclog.Logger) error {
	snaps, err := raft.NewFileSnapshotStoreWithLogger(n.cfg.DataDir, n.cfg.SnapshotRetain, hlog.Named("snapshot"))
	if err != nil {
		return fmt.Errorf("open raft snapshot store: %w", err)
	}
	var advertise net.Addr
	if n.cfg.AdvertiseAddr != "" {
		if advertise, err = net.ResolveTCPAddr("tcp", n.cfg.AdvertiseAddr); err != nil {
			return fmt.Errorf("resolve advertise address %q: %w", n.cfg.AdvertiseAddr, err)
		}
	}
	n.trans, err = raft.NewTCPTransportWithLogger(n.cfg.RaftAddr, advertise, n.cfg.TransportMaxPool, n.cfg.TransportTimeout, hlog.Named("transport"))
	if err != nil {
		return fmt.Errorf("start raft transport on %s: %w", n.cfg.RaftAddr, err)
	}
	rc := n.raftConfig(hlog)
	if err := raft.ValidateConfig(rc); err != nil {
		return fmt.Errorf("invalid raft config: %w", err)
	}
	if err := n.bootstrap(rc, snaps); err != nil {
		return err
	}
	n.tracker = newCommitTracker(n.trans)
	// The leader reads each new entry back from the log once per follower
	// to replicate it. The cache serves those reads from memory.
	n.logs, err = raft.NewLogCache(logCacheSize, n.store)
	if err != nil {
		n.tracker.close()
		return fmt.Errorf("create raft log cache: %w", err)
	}
	var logs raft.LogStore = n.logs
	if wrapLogStore != nil {
		logs = wrapLogStore(n.cfg.NodeID, logs)
	}
	n.raft, err = raft.NewRaft(rc, n.fsm, &presendStore{LogStore: logs, n: n}, n.store, snaps, n.tracker)
	if err != nil {
		n.tracker.close()
		return fmt.Errorf("start raft: %w", err)
	}
	n.started.Store(true)
	return nil
}

func (n *Node) raftConfig(hlog hclog.Logger) *raft.Config {
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(n.cfg.NodeID)
	rc.Logger = hlog
	rc.SnapshotThreshold = n.cfg.SnapshotThreshold
	rc.SnapshotInterval = n.cfg.SnapshotInterval
	rc.TrailingLogs = n.cfg.TrailingLogs
	rc.MaxAppendEntries = n.cfg.MaxAppendEntries
	// A buffered apply channel lets the leader collect a whole batch of
	// proposals while the previous batch is being written.
	rc.BatchApplyCh = true
	rc.HeartbeatTimeout = n.cfg.HeartbeatTimeout
	rc.ElectionTimeout = n.cfg.ElectionTimeout
	rc.LeaderLeaseTimeout = n.cfg.LeaderLeaseTimeout
	rc.CommitTimeout = n.cfg.CommitTimeout
	return rc
}

// bootstrap forms a one-voter cluster only when asked to and when no state
// exists, so that a restart never forms a second cluster.
func (n *Node) bootstrap(rc *raft.Config, snaps raft.SnapshotStore) error {
	if !n.cfg.Bootstrap {
		return nil
	}
	existing, err := raft.HasExistingState(n.store, n.store, snaps)
	if err != nil {
		return fmt.Errorf("check for existing raft state: %w", err)
	}
	if existing {
		return nil
	}
	conf := raft.Configuration{Servers: []raft.Server{{
		Suffrage: raft.Voter,
		ID:       rc.LocalID,
		Address:  n.trans.LocalAddr(),
	}}}
	if err := raft.BootstrapCluster(rc, n.store, n.store, snaps, n.trans, conf); err != nil {
		return fmt.Errorf("bootstrap raft cluster: %w", err)
	}
	return nil
}

// Addr returns the address other voters reach this node at.
func (n *Node) Addr() string { return string(n.trans.LocalAddr()) }

// ID returns the node ID.
func (n *Node) ID() string { return n.cfg.NodeID }

// FSM returns the state machine the node drives.
func (n *Node) FSM() *state.FSM { return n.fsm }

// SetForwarder installs f to forward Apply calls made on a follower; nil
// removes it, after which such calls return a *NotLeaderError.
func (n *Node) SetForwarder(f Forwarder) {
	if f == nil {
		n.forward.Store(nil)
		return
	}
	n.forward.Store(&f)
}

// Close stops raft, the transport and the stores. It is safe to call more
// than once; later calls return the first call's result.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		errs := []error{n.raft.Shutdown().Error()}
		n.tracker.close()
		errs = append(errs, n.trans.Close(), n.store.Close())
		n.closeErr = errors.Join(errs...)
	})
	return n.closeErr
}

var _ io.Closer = (*Node)(nil)

// timeoutFrom returns the time left before ctx's deadline, or 0 (no
// timeout) when it has none.
func timeoutFrom(ctx context.Context) time.Duration {
	deadline, ok := ctx.Deadline()
	if !ok {
		return 0
	}
	if d := time.Until(deadline); d > 0 {
		return d
	}
	return time.Nanosecond
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
