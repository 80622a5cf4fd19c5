// Package embedded runs the embedded default deployment of Yoloplane in one
// process: a single-voter control plane with its data under one directory,
// the models given on the command line loaded and warmed, and the REST API
// with predict routes on one listener. `yoloplane serve` is a thin wrapper
// around Run.
package embedded

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/controlplane/api"
	"github.com/yoloplane/yoloplane/controlplane/blob"
	"github.com/yoloplane/yoloplane/controlplane/raftnode"
	"github.com/yoloplane/yoloplane/controlplane/ratelimit"
	"github.com/yoloplane/yoloplane/controlplane/state"
	"github.com/yoloplane/yoloplane/dataplane/accounting"
	"github.com/yoloplane/yoloplane/dataplane/inference"
	"github.com/yoloplane/yoloplane/dataplane/node"
	"github.com/yoloplane/yoloplane/dataplane/predict"
	"github.com/yoloplane/yoloplane/shared/ids"
)

// Names of the records the first start creates.
const (
	AdminUsername  = "yoloplane"
	DefaultProject = "default"
	adminKeyFile   = "admin.key"
)

// Config is the embedded server's configuration.
type Config struct {
	Listen  string
	DataDir string
	Models  []string
	API     api.Config
	Predict predict.Config
	// KeyOut receives the admin API key the first start creates.
	KeyOut func(key, path string)
	// DisableRateLimits turns the per-key plan rate limits off, for load
	// tests.
	DisableRateLimits bool
	// NodeListen is the host:port of the in-process data-plane node that
	// serves deployments in the default region. Empty means
	// DefaultNodeListen.
	NodeListen string
	// DisableNode leaves the in-process data-plane node off, so that only
	// external nodes serve deployments.
	DisableNode bool
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	if c.Listen == "" {
		return errors.New("listen address is empty: set --listen, for example 127.0.0.1:8080")
	}
	if c.DataDir == "" {
		return errors.New("data directory is empty: set --data")
	}
	if c.API.MaxBody < 1024 {
		return fmt.Errorf("max body %d bytes is below the minimum of 1024: raise --max-body", c.API.MaxBody)
	}
	return c.Predict.Validate()
}

// Server is a running embedded deployment.
type Server struct {
	cfg     Config
	log     *slog.Logger
	node    *raftnode.Node
	limiter *ratelimit.Limiter
	fsm     *state.FSM
	blobs   *blob.Store
	api     *api.Server
	http    *fasthttp.Server
	ln      net.Listener
	done    chan error

	dataNode *node.Node // nil when Config.DisableNode is set

	stopPurge context.CancelFunc
	stopFleet context.CancelFunc
	// unlock releases the data directory lock; the process exit releases
	// it too.
	unlock func()
}

// purgeInterval is how often trash past its retention is purged. An hour
// keeps items at most an hour past their 30 days.
const purgeInterval = time.Hour

// urlSecretFile holds the key that signs download URLs, so that issued
// URLs stay valid across restarts.
const urlSecretFile = "url.secret"

// loadURLSecret reads the URL-signing key, creating a random one on first
// start.
func loadURLSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil && len(b) >= 32 {
		return b, nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read URL secret: %w", err)
	}
	b = make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("generate URL secret: %w", err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, fmt.Errorf("write URL secret: %w", err)
	}
	return b, nil
}

// Start opens the state, creates the admin account on first start, loads
// every model and starts serving. It returns once the listener is bound;
// Addr reports the address.
func Start(ctx context.Context, cfg Config, log *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	started := time.Now()
	log.Info("starting", "data_dir", cfg.DataDir, "listen", cfg.Listen, "model_files", len(cfg.Models))
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	unlock, err := lockDataDir(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: log, fsm: state.New(), done: make(chan error, 1), unlock: unlock}
	if err := s.openState(ctx); err != nil {
		unlock()
		return nil, err
	}
	if err := s.initLibrary(); err != nil {
		s.node.Close()
		return nil, err
	}

	set := metrics.NewSet()
	rec := accounting.NewRecorder(set)
	s.api = api.New(cfg.API, s.fsm, rec, func(ctx *fasthttp.RequestCtx) {
		set.WritePrometheus(ctx)
		metrics.WriteProcessMetrics(ctx)
	}, log.With("subsystem", "api"))
	secret, err := loadURLSecret(filepath.Join(cfg.DataDir, urlSecretFile))
	if err != nil {
		s.node.Close()
		return nil, err
	}
	var limiter api.Limiter
	if !cfg.DisableRateLimits {
		// The single voter leads, so every decision is local.
		if s.limiter, err = ratelimit.New(ratelimit.DefaultConfig(), s.node, s.fsm); err != nil {
			s.node.Close()
			return nil, err
		}
		limiter = s.limiter
	}
	s.api.SetBackend(api.Backend{
		Limiter:   limiter,
		Apply:     s.node.Apply,
		Blobs:     s.blobs,
		LoadModel: func(path string) (*predict.Model, error) { return predict.Load(path, cfg.Predict) },
		URLSecret: secret,
	})

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		s.node.Close()
		return nil, fmt.Errorf("listen on %s: %w (choose another address with --listen)", cfg.Listen, err)
	}
	s.ln = ln
	s.http = s.api.FastHTTPServer()
	clusterSecret, err := s.startFleet(log)
	if err != nil {
		s.Close()
		return nil, err
	}
	go func() { s.done <- s.http.Serve(ln) }()
	if !cfg.DisableNode {
		if err := s.startNode(clusterSecret, log); err != nil {
			s.Close()
			return nil, err
		}
	}

	if err := s.registerModels(ctx); err != nil {
		s.Close()
		return nil, err
	}
	s.api.SetReady()
	purgeCtx, stopPurge := context.WithCancel(context.Background())
	s.stopPurge = stopPurge
	go s.api.RunPurge(purgeCtx, purgeInterval)
	log.Info("started", "addr", ln.Addr().String(), "duration", time.Since(started).Round(time.Millisecond))
	return s, nil
}

// Addr returns the address the API listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Wait blocks until the HTTP server stops.
func (s *Server) Wait() error { return <-s.done }

// Close stops the listener and the Raft node.
func (s *Server) Close() error {
	var errs []error
	if s.stopPurge != nil {
		s.stopPurge()
	}
	// The node goes first, so that its last usage batch reaches the
	// listener.
	if s.dataNode != nil {
		errs = append(errs, s.dataNode.Close())
	}
	if s.stopFleet != nil {
		s.stopFleet()
	}
	if s.http != nil {
		errs = append(errs, s.http.Shutdown())
	}
	// Before the node, so that the last day totals commit.
	if s.limiter != nil {
		errs = append(errs, s.limiter.Close())
	}
	if s.node != nil {
		errs = append(errs, s.node.Close())
	}
	if s.unlock != nil {
		s.unlock()
	}
	return errors.Join(errs...)
}

func (s *Server) openState(ctx context.Context) error {
	rcfg := raftnode.DefaultConfig()
	rcfg.NodeID = "embedded"
	rcfg.DataDir = filepath.Join(s.cfg.DataDir, "raft")
	rcfg.RaftAddr = "127.0.0.1:0"
	rcfg.Bootstrap = true
	rcfg.Logger = s.log.With("subsystem", "raft")
	node, err := raftnode.Open(rcfg, s.fsm)
	if err != nil {
		return fmt.Errorf("open control-plane state in %s: %w", rcfg.DataDir, err)
	}
	s.node = node
	if err := node.WaitReady(ctx); err != nil {
		node.Close()
		return fmt.Errorf("wait for control-plane state: %w", err)
	}
	blobs, err := blob.New(filepath.Join(s.cfg.DataDir, "blobs"))
	if err != nil {
		node.Close()
		return fmt.Errorf("open blob store: %w", err)
	}
	s.blobs = blobs
	if err := s.ensureAdmin(ctx); err != nil {
		node.Close()
		return err
	}
	return nil
}

func (s *Server) initLibrary() error {
	lib, err := inference.FindLibrary()
	if err != nil {
		return err
	}
	if err := inference.Init(lib); err != nil {
		return fmt.Errorf("load ONNX Runtime from %s: %w", lib, err)
	}
	s.log.Info("onnx runtime loaded", "path", lib)
	return nil
}

// ensureAdmin creates the admin user, its API key and the default project
// on first start. The key is written to DATA/admin.key (mode 0600) and
// passed to KeyOut; the state keeps only its hash.
func (s *Server) ensureAdmin(ctx context.Context) error {
	if _, ok := s.fsm.UserByUsername(AdminUsername); ok {
		return s.ensureDefaultProject(ctx)
	}
	now := time.Now().UTC()
	userID, wsID := ids.New(), ids.New()
	if _, err := s.node.Apply(ctx, &state.CreateUser{
		UserID: userID, WorkspaceID: wsID, Username: AdminUsername,
		DisplayName: "Administrator", CreatedAt: now,
		// The operator's own workspace gets the enterprise allowance, so
		// benchmarks and scripts with the admin key are not held to the
		// free plan's 60 requests a minute.
		Plan: state.PlanEnterprise,
	}); err != nil {
		return fmt.Errorf("create admin user: %w", err)
	}
	key := api.NewKey()
	if _, err := s.node.Apply(ctx, &state.CreateAPIKey{
		KeyID: ids.New(), UserID: userID, WorkspaceID: wsID, Name: "admin",
		Hash: api.HashKey(key), Prefix: key[:7], CreatedAt: now,
	}); err != nil {
		return fmt.Errorf("create admin API key: %w", err)
	}
	path := filepath.Join(s.cfg.DataDir, adminKeyFile)
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return fmt.Errorf("write admin key file: %w", err)
	}
	if s.cfg.KeyOut != nil {
		s.cfg.KeyOut(key, path)
	}
	return s.ensureDefaultProject(ctx)
}

func (s *Server) adminWorkspace() (state.Workspace, error) {
	ws, ok := s.fsm.WorkspaceBySlug(AdminUsername)
	if !ok {
		return state.Workspace{}, errors.New("admin workspace missing from state: the data directory is damaged")
	}
	return ws, nil
}

func (s *Server) ensureDefaultProject(ctx context.Context) error {
	ws, err := s.adminWorkspace()
	if err != nil {
		return err
	}
	if _, ok := s.fsm.ProjectBySlug(ws.ID, DefaultProject); ok {
		return nil
	}
	now := time.Now().UTC()
	_, err = s.node.Apply(ctx, &state.CreateProject{
		ProjectID: ids.New(), WorkspaceID: ws.ID, Slug: DefaultProject,
		Name: "Default", CreatedAt: now,
	})
	if err != nil {
		return fmt.Errorf("create default project: %w", err)
	}
	return nil
}

// slugFromStem turns a file name into a model slug.
func slugFromStem(path string) string {
	if slug := api.Slugify(strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))); slug != "" {
		return slug
	}
	return "model"
}
