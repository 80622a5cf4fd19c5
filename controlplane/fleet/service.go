package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/controlplane/blob"
	"github.com/yoloplane/yoloplane/controlplane/ratelimit"
	"github.com/yoloplane/yoloplane/controlplane/state"
	"github.com/yoloplane/yoloplane/shared/wire"
)

// Config configures a Service.
type Config struct {
	// Secret is the cluster secret that internal fleet routes require.
	Secret string
	// NodeTTL is how long a node counts as live after its last heartbeat.
	// Three seconds covers three missed heartbeats at the data plane's
	// default one-second interval, so a lost node moves within about 3 s
	// while one late heartbeat does not move anything. Raise it together
	// with the nodes' heartbeat interval.
	NodeTTL time.Duration
	// ReconcileInterval is the time between two placement passes.
	ReconcileInterval time.Duration
	// WatchWait is how long a watch request is held when nothing changed.
	WatchWait time.Duration
	// CallTimeout bounds one call to a data-plane node.
	CallTimeout time.Duration
}

// DefaultConfig returns the settings voters use. Secret must still be set.
func DefaultConfig() Config {
	return Config{
		NodeTTL:           3 * time.Second,
		ReconcileInterval: 500 * time.Millisecond,
		WatchWait:         wire.WatchWaitSeconds * time.Second,
		CallTimeout:       5 * time.Second,
	}
}

// Validate returns an error naming the first invalid field.
func (c Config) Validate() error {
	switch {
	case len(c.Secret) < 32:
		return fmt.Errorf("cluster secret has %d characters, at least 32 are required", len(c.Secret))
	case c.NodeTTL <= 0:
		return fmt.Errorf("node TTL %v must be positive", c.NodeTTL)
	case c.ReconcileInterval <= 0:
		return fmt.Errorf("reconcile interval %v must be positive", c.ReconcileInterval)
	case c.WatchWait <= 0:
		return fmt.Errorf("watch wait %v must be positive", c.WatchWait)
	case c.CallTimeout <= 0:
		return fmt.Errorf("call timeout %v must be positive", c.CallTimeout)
	}
	return nil
}

// Raft is the part of the Raft node the Service uses. Apply blocks until
// the command commits or ctx ends.
type Raft interface {
	IsLeader() bool
	Apply(ctx context.Context, cmd state.Command) (any, error)
}

// Service is the fleet controller of one voter. Create it with New.
type Service struct {
	cfg     Config
	fsm     *state.FSM
	raft    Raft
	blobs   *blob.Store
	limiter *ratelimit.Limiter
	log     *slog.Logger
	now     func() time.Time
	client  *fasthttp.Client

	mu          sync.Mutex
	nodes       map[string]*nodeInfo // by node ID
	leaderSince time.Time            // zero while this voter does not lead
	usage       map[string]UsageTotal
	quota       map[string]*quotaWindow

	pub   publisher
	relay *relayer
}

// New returns a Service. limiter may be nil, in which case quota leases
// come from a per-voter minute window with the plan's limits.
func New(cfg Config, fsm *state.FSM, raft Raft, blobs *blob.Store, limiter *ratelimit.Limiter, log *slog.Logger) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid fleet config: %w", err)
	}
	if fsm == nil || raft == nil || blobs == nil || log == nil {
		return nil, errors.New("fleet: state, raft node, blob store and logger are required")
	}
	s := &Service{
		cfg: cfg, fsm: fsm, raft: raft, blobs: blobs, limiter: limiter, log: log, now: time.Now,
		client: &fasthttp.Client{Name: "yoloplane-controlplane", ReadTimeout: cfg.CallTimeout, WriteTimeout: cfg.CallTimeout},
		nodes:  map[string]*nodeInfo{},
		usage:  map[string]UsageTotal{},
		quota:  map[string]*quotaWindow{},
		relay:  newRelayer(),
	}
	s.pub.init()
	return s, nil
}

// Run publishes state changes to watchers, relays heartbeats to the other
// voters and, while this voter leads, reconciles placement every
// ReconcileInterval. It returns when ctx ends.
func (s *Service) Run(ctx context.Context) {
	go s.runRelay(ctx)
	t := time.NewTicker(s.cfg.ReconcileInterval)
	defer t.Stop()
	publish := time.NewTicker(100 * time.Millisecond)
	defer publish.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-publish.C:
			s.refresh()
		case <-t.C:
			s.refresh()
			s.reconcile(ctx)
		}
	}
}
