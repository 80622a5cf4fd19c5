package raftnode

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"
)

// Config configures a Node. Start from DefaultConfig and set NodeID,
// DataDir and RaftAddr.
type Config struct {
	// NodeID is this voter's stable identity in the cluster configuration.
	// It must survive restarts and address changes.
	NodeID string
	// DataDir contains raft.db (the log and stable store) and snapshots/.
	DataDir string
	// RaftAddr is the TCP address the Raft transport binds, such as
	// "127.0.0.1:7000". Port 0 picks a free port; Node.Addr reports it.
	RaftAddr string
	// AdvertiseAddr is the address other voters dial. Empty means the
	// bound address, which must then not be unspecified (0.0.0.0).
	AdvertiseAddr string
	// Bootstrap forms a new single-voter cluster when DataDir has no Raft
	// state yet. Without it a node only joins clusters that add it.
	Bootstrap bool
	// Logger receives raft's log lines. Nil discards them.
	Logger *slog.Logger

	// SnapshotThreshold is how many log entries since the last snapshot
	// trigger a new one, checked every SnapshotInterval.
	SnapshotThreshold uint64
	SnapshotInterval  time.Duration
	// SnapshotRetain is how many snapshots stay on disk.
	SnapshotRetain int
	// TrailingLogs is how many entries a snapshot leaves in the log, so a
	// follower that lags by fewer catches up without a snapshot transfer.
	TrailingLogs uint64
	// MaxAppendEntries bounds both the entries sent in one AppendEntries
	// RPC and the proposals the leader writes to disk with one fsync.
	MaxAppendEntries int

	HeartbeatTimeout   time.Duration
	ElectionTimeout    time.Duration
	LeaderLeaseTimeout time.Duration
	CommitTimeout      time.Duration

	// TransportMaxPool is the number of idle connections kept per peer.
	TransportMaxPool int
	// TransportTimeout bounds one transport I/O operation.
	TransportTimeout time.Duration
}

// DefaultConfig returns a configuration for voters on one LAN or host.
func DefaultConfig() Config {
	return Config{
		RaftAddr: "127.0.0.1:0",
		// raft's defaults: a snapshot after 8192 entries, checked every two
		// minutes, keeping 10240 entries for lagging followers.
		SnapshotThreshold: 8192,
		SnapshotInterval:  120 * time.Second,
		SnapshotRetain:    2,
		TrailingLogs:      10240,
		// 512 is half of raft's maximum (1024). It lets one fsync cover a
		// burst of concurrent proposals while an AppendEntries RPC of small
		// entries stays well under a megabyte.
		MaxAppendEntries: 512,
		// A follower starts an election after 300-600 ms without the
		// leader (raft randomizes up to twice HeartbeatTimeout), and the
		// leader sends heartbeats every 30 ms. On loopback and a LAN this
		// resumes writes well under a second after a leader dies; raft's
		// own defaults (1 s, 1 s, 500 ms) took 2.7 s. Voters across a
		// WAN, or on machines that stall for long GC or disk pauses,
		// need larger values to avoid needless elections.
		HeartbeatTimeout:   300 * time.Millisecond,
		ElectionTimeout:    300 * time.Millisecond,
		LeaderLeaseTimeout: 150 * time.Millisecond,
		// A follower learns that an entry committed only from the next
		// AppendEntries, which the leader sends when new entries arrive or
		// after CommitTimeout (randomized up to twice that). A follower
		// that forwarded a write waits for that before it replies, so with
		// raft's 50 ms a lone write through a follower took 50-100 ms. An
		// idle leader now sends each follower an empty AppendEntries
		// every 5-10 ms, which touches no disk.
		CommitTimeout: 5 * time.Millisecond,
		// Three pooled connections per peer let pipelined AppendEntries and
		// heartbeats proceed without redialing.
		TransportMaxPool: 3,
		TransportTimeout: 10 * time.Second,
	}
}

// Validate returns an error naming the first field that is missing or out
// of range.
func (c Config) Validate() error {
	var errs []error
	if c.NodeID == "" {
		errs = append(errs, errors.New("node ID is missing"))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("data directory is missing"))
	}
	if _, _, err := net.SplitHostPort(c.RaftAddr); err != nil {
		errs = append(errs, fmt.Errorf("raft address %q is invalid: %w", c.RaftAddr, err))
	}
	if c.AdvertiseAddr != "" {
		if _, err := net.ResolveTCPAddr("tcp", c.AdvertiseAddr); err != nil {
			errs = append(errs, fmt.Errorf("advertise address %q is invalid: %w", c.AdvertiseAddr, err))
		}
	}
	if c.SnapshotRetain < 1 {
		errs = append(errs, fmt.Errorf("snapshot retain count %d must be at least 1", c.SnapshotRetain))
	}
	if c.MaxAppendEntries < 1 || c.MaxAppendEntries > 1024 {
		errs = append(errs, fmt.Errorf("max append entries %d must be between 1 and 1024", c.MaxAppendEntries))
	}
	if c.TransportMaxPool < 1 {
		errs = append(errs, fmt.Errorf("transport pool size %d must be at least 1", c.TransportMaxPool))
	}
	if c.TransportTimeout <= 0 {
		errs = append(errs, fmt.Errorf("transport timeout %v must be positive", c.TransportTimeout))
	}
	return errors.Join(errs...)
}
