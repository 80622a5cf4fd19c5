package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/controlplane/blob"
	"github.com/yoloplane/yoloplane/dataplane/accounting"
	"github.com/yoloplane/yoloplane/dataplane/gossip"
	"github.com/yoloplane/yoloplane/dataplane/inference"
	"github.com/yoloplane/yoloplane/dataplane/predictapi"
	"github.com/yoloplane/yoloplane/shared/httpserver"
)

// Node is a running data-plane node. Create one with Start.
type Node struct {
	cfg      Config
	log      *slog.Logger
	cp       *cpClient
	blobs    *blob.Store
	pool     *gossip.Pool // nil when gossip is disabled
	server   *fasthttp.Server
	listener net.Listener
	httpAddr string

	handler  predictapi.Handler
	metrics  *metrics.Set
	recorder *accounting.Recorder

	view          atomic.Pointer[view]
	cpUnreachable atomic.Bool
	lastContact   atomic.Int64 // Unix nanoseconds of the last successful poll
	inflight      atomic.Int64

	// mu guards deploys, the runtimes they point to and gossipModels.
	mu           sync.RWMutex
	deploys      map[string]*deployment
	gossipModels map[string]gossip.ModelState

	statsMu sync.Mutex
	stats   map[string]*stats

	leaseMu       sync.Mutex
	leases        map[string]*lease // by key ID
	quotaLogLimit logLimiter

	usage usage

	reconcileCh chan struct{}
	wakeWatch   chan struct{}
	cancel      context.CancelFunc
	wg          sync.WaitGroup
	serveErr    chan error
	closeOnce   sync.Once
	closeErr    error
}

// Start opens the data directory, loads the persisted fleet state, starts
// the listener, the gossip pool and the background loops, and returns
// without waiting for the control plane. log receives the node's log
// lines, each with a subsystem key.
func Start(cfg Config, log *slog.Logger) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid data-plane node config: %w", err)
	}
	started := time.Now()
	log.Info("starting", "node_id", cfg.NodeID, "region", cfg.Region, "listen", cfg.Listen, "control_plane", cfg.ControlPlane)
	if err := initRuntime(log); err != nil {
		return nil, err
	}
	n, err := newNode(cfg, log)
	if err != nil {
		return nil, err
	}
	if err := n.restoreState(); err != nil {
		return nil, err
	}
	if err := n.listen(); err != nil {
		return nil, err
	}
	if err := n.startGossip(); err != nil {
		n.closeListener()
		return nil, err
	}

	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	for _, loop := range []func(context.Context){n.follow, n.reconcileLoop, n.heartbeatLoop, n.usageLoop} {
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			loop(ctx)
		}()
	}
	log.Info("started", "node_id", cfg.NodeID, "http_addr", n.httpAddr, "gossip_addr", n.gossipAddr(),
		"state_version", n.appliedVersion(), "duration", time.Since(started))
	return n, nil
}

// initRuntime loads ONNX Runtime once per process.
func initRuntime(log *slog.Logger) error {
	lib, err := inference.FindLibrary()
	if err != nil {
		return err
	}
	if err := inference.Init(lib); err != nil {
		return fmt.Errorf("load ONNX Runtime from %s: %w", lib, err)
	}
	log.Info("onnx runtime loaded", "subsystem", "inference", "path", lib)
	return nil
}

func newNode(cfg Config, log *slog.Logger) (*Node, error) {
	blobs, err := blob.New(filepath.Join(cfg.DataDir, "blobs"))
	if err != nil {
		return nil, fmt.Errorf("open model store in %s: %w", cfg.DataDir, err)
	}
	set := metrics.NewSet()
	n := &Node{
		cfg:           cfg,
		log:           log,
		cp:            newCPClient(cfg.ControlPlane, cfg.Secret),
		blobs:         blobs,
		metrics:       set,
		recorder:      accounting.NewRecorder(set),
		deploys:       make(map[string]*deployment),
		stats:         make(map[string]*stats),
		leases:        make(map[string]*lease),
		quotaLogLimit: logLimiter{interval: 10 * time.Second},
		usage:         usage{counts: make(map[usageKey]usageCount)},
		reconcileCh:   make(chan struct{}, 1),
		wakeWatch:     make(chan struct{}, 1),
		serveErr:      make(chan error, 1),
	}
	n.handler = predictapi.Handler{
		MaxBody:        cfg.MaxBody,
		AllowURLSource: cfg.AllowURLSource,
		Recorder:       n.recorder,
		Logger:         log.With("subsystem", "predict"),
		Started:        time.Now(),
		Version:        cfg.Version,
		Timeout:        cfg.PredictTimeout,
	}
	n.registerGauges()
	return n, nil
}

func (n *Node) registerGauges() {
	n.metrics.NewGauge("yoloplane_node_control_plane_reachable", func() float64 {
		if n.controlPlaneStatus() == "reachable" {
			return 1
		}
		return 0
	})
	n.metrics.NewGauge("yoloplane_node_fleet_state_age_seconds", func() float64 {
		if v := n.view.Load(); v != nil {
			return time.Since(v.receivedAt).Seconds()
		}
		return -1
	})
	n.metrics.NewGauge("yoloplane_node_inflight_requests", func() float64 { return float64(n.inflight.Load()) })
}

// restoreState installs the persisted fleet state, so that the node serves
// its deployments before the control plane responds.
func (n *Node) restoreState() error {
	p, err := loadState(n.cfg.DataDir)
	if err != nil {
		return err
	}
	if p == nil {
		return nil
	}
	n.view.Store(newView(p.State, p.ReceivedAt))
	n.log.Info("restored fleet state", "subsystem", "watch", "version", p.State.Version,
		"received_at", p.ReceivedAt, "deployments", len(p.State.Deployments))
	n.triggerReconcile()
	return nil
}

func (n *Node) listen() error {
	ln, err := net.Listen("tcp", n.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", n.cfg.Listen, err)
	}
	n.listener = ln
	n.httpAddr = ln.Addr().String()
	if n.cfg.AdvertiseHTTP != "" {
		n.httpAddr = n.cfg.AdvertiseHTTP
	}
	n.server = httpserver.New(n.handle, httpserver.Config{MaxBody: n.cfg.MaxBody}, n.log.With("subsystem", "http"))
	go func() { n.serveErr <- n.server.Serve(ln) }()
	return nil
}

func (n *Node) startGossip() error {
	if n.cfg.GossipBind == "" {
		return nil
	}
	gc := gossip.DefaultConfig()
	gc.NodeName = n.cfg.NodeID
	gc.Region = n.cfg.Region
	gc.BindAddr = n.cfg.GossipBind
	gc.HTTPAddr = n.httpAddr
	gc.Capacity = n.cfg.Capacity
	gc.Join = n.cfg.GossipJoin
	gc.Logger = n.log.With("subsystem", "gossip")
	pool, err := gossip.Start(gc)
	if err != nil {
		return fmt.Errorf("start gossip: %w", err)
	}
	n.pool = pool
	return nil
}

func (n *Node) closeListener() {
	if err := n.server.Shutdown(); err != nil {
		n.log.Error("stop http server failed", "error", err)
	}
}

// Addr returns the host:port of the public listener.
func (n *Node) Addr() string { return n.listener.Addr().String() }

// GossipAddr returns the host:port of the gossip pool, or "" when gossip
// is disabled.
func (n *Node) GossipAddr() string { return n.gossipAddr() }

// Wait blocks until the HTTP server stops and returns its error.
func (n *Node) Wait() error { return <-n.serveErr }

// Close stops the listener after the requests in flight finish, stops the
// background loops, sends the last usage batch, leaves the gossip pool and
// releases every model session. It is safe to call more than once.
func (n *Node) Close() error {
	n.closeOnce.Do(func() { n.closeErr = n.close() })
	return n.closeErr
}

func (n *Node) close() error {
	n.log.Info("stopping", "node_id", n.cfg.NodeID)
	var errs []error
	if err := n.server.Shutdown(); err != nil {
		errs = append(errs, fmt.Errorf("stop http server: %w", err))
	}
	n.cancel()
	n.wg.Wait()

	ctx, cancel := context.WithTimeout(context.Background(), n.cfg.RequestTimeout)
	n.flushUsage(ctx)
	cancel()

	if n.pool != nil {
		if err := n.pool.Leave(time.Second); err != nil {
			n.log.Warn("leave gossip pool failed", "subsystem", "gossip", "error", err)
		}
		if err := n.pool.Shutdown(); err != nil {
			errs = append(errs, fmt.Errorf("stop gossip: %w", err))
		}
	}
	n.mu.Lock()
	for _, rt := range n.deploys {
		n.retireLocked(rt)
	}
	n.mu.Unlock()
	n.log.Info("stopped", "node_id", n.cfg.NodeID)
	return errors.Join(errs...)
}
