package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/controlplane/api"
	"github.com/yoloplane/yoloplane/controlplane/blob"
	"github.com/yoloplane/yoloplane/controlplane/cluster"
	"github.com/yoloplane/yoloplane/controlplane/embedded"
	"github.com/yoloplane/yoloplane/controlplane/fleet"
	"github.com/yoloplane/yoloplane/controlplane/raftnode"
	"github.com/yoloplane/yoloplane/controlplane/ratelimit"
	"github.com/yoloplane/yoloplane/controlplane/state"
	"github.com/yoloplane/yoloplane/dataplane/accounting"
	"github.com/yoloplane/yoloplane/dataplane/inference"
	"github.com/yoloplane/yoloplane/dataplane/predict"
	"github.com/yoloplane/yoloplane/shared/httpserver"
	"github.com/yoloplane/yoloplane/shared/ids"
)

// publicURLHelp describes --public-url of serve and controlplane.
const publicURLHelp = "scheme and host clients reach this server at, such as https://models.example.com, for download and invite links; empty uses each request's Host header"

// checkPublicURL returns an error unless u is empty or an http(s) URL with
// a host and no path, query or fragment.
func checkPublicURL(u string) error {
	if u == "" {
		return nil
	}
	invalid := fmt.Errorf("--public-url %q is invalid: give a scheme and host only, such as https://models.example.com", u)
	parsed, err := url.Parse(u)
	if err != nil || (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Hostname() == "" || parsed.User != nil ||
		strings.Trim(parsed.Path, "/") != "" || parsed.RawQuery != "" || parsed.Fragment != "" {
		return invalid
	}
	if port := parsed.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return invalid
		}
	}
	return nil
}

// blobSyncInterval is how often a voter fetches the referenced blobs it
// lacks from its peers and deletes the ones nothing references.
const blobSyncInterval = 2 * time.Second

// secretFile is the file in the data directory that contains the cluster
// secret, mode 0600.
const secretFile = "cluster.secret"

type controlPlaneFlags struct {
	nodeID, listen, advertiseHTTP, raftAddr, dataDir, join, secret, logLevel string
	pprofListen, publicURL                                                   string
	bootstrap, rateLimits                                                    bool
	joinTimeout                                                              time.Duration
	raftTiming                                                               raftTiming
	maxBody                                                                  int64
}

func parseControlPlaneFlags(args []string) (controlPlaneFlags, error) {
	var f controlPlaneFlags
	fs := flag.NewFlagSet("controlplane", flag.ContinueOnError)
	fs.StringVar(&f.nodeID, "node-id", "", "stable ID of this voter in the Raft configuration (required)")
	fs.StringVar(&f.listen, "listen", "127.0.0.1:8080", "address the REST API and the cluster routes listen on (host:port)")
	fs.StringVar(&f.advertiseHTTP, "advertise-http", "", "host:port other voters reach --listen at; empty means --listen")
	fs.StringVar(&f.raftAddr, "raft", "127.0.0.1:7000", "address the Raft transport listens on (host:port)")
	fs.StringVar(&f.dataDir, "data", "", "data directory for the Raft log, snapshots, admin.key and cluster.secret (required)")
	fs.BoolVar(&f.bootstrap, "bootstrap", false, "form a new one-voter cluster when --data has no Raft state yet")
	fs.StringVar(&f.join, "join", "", "URL of any voter of the cluster to join, such as http://10.0.0.1:8080")
	fs.DurationVar(&f.joinTimeout, "join-timeout", 2*time.Minute, "how long --join keeps retrying before giving up")
	fs.StringVar(&f.secret, "cluster-secret", os.Getenv("YOLOPLANE_CLUSTER_SECRET"),
		"secret shared by all voters for internal routes (default $YOLOPLANE_CLUSTER_SECRET, else DATA/cluster.secret, which --bootstrap creates)")
	fs.Int64Var(&f.maxBody, "max-body", api.DefaultConfig().MaxBody, "largest request body in bytes; larger uploads get 413")
	fs.StringVar(&f.publicURL, "public-url", "", publicURLHelp)
	fs.BoolVar(&f.rateLimits, "rate-limits", true, "enforce the per-key plan rate limits; turn off only for load tests")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&f.pprofListen, "pprof-listen", "", "address (host:port) to serve Go's /debug/pprof profiles on; empty serves none. Keep it on loopback, because it has no authentication")
	f.raftTiming.register(fs)
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	switch {
	case fs.NArg() > 0:
		return f, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case f.nodeID == "":
		return f, errors.New("--node-id is required")
	case f.dataDir == "":
		return f, errors.New("--data is required")
	case f.bootstrap && f.join != "":
		return f, errors.New("--bootstrap and --join exclude each other: bootstrap the first voter, join the others")
	}
	if err := checkPublicURL(f.publicURL); err != nil {
		return f, err
	}
	if f.advertiseHTTP == "" {
		f.advertiseHTTP = f.listen
	}
	return f, nil
}

func runControlPlane(args []string) error {
	f, err := parseControlPlaneFlags(args)
	if err != nil {
		return err
	}
	log, err := newLogger(f.logLevel)
	if err != nil {
		return err
	}
	metrics.ExposeMetadata(true)
	if f.pprofListen != "" {
		if err := servePprof(f.pprofListen, log); err != nil {
			return err
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	v, err := startVoter(ctx, f, log)
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		log.Info("stopping", "reason", "signal")
	case err := <-v.done:
		if err != nil {
			log.Error("http server stopped", "error", err)
		}
	}
	return v.close()
}

// voter is a running control-plane voter.
type voter struct {
	node    *raftnode.Node
	limiter *ratelimit.Limiter
	http    *fasthttp.Server
	// stopFleet ends the fleet controller's reconcile loop, and stopBlobs
	// the blob store's sync loop.
	stopFleet, stopBlobs context.CancelFunc
	done                 chan error
}

func (v *voter) close() error {
	var errs []error
	for _, stop := range []context.CancelFunc{v.stopFleet, v.stopBlobs} {
		if stop != nil {
			stop()
		}
	}
	if v.http != nil {
		errs = append(errs, v.http.Shutdown())
	}
	if v.limiter != nil {
		errs = append(errs, v.limiter.Close())
	}
	return errors.Join(append(errs, v.node.Close())...)
}

func startVoter(ctx context.Context, f controlPlaneFlags, log *slog.Logger) (*voter, error) {
	started := time.Now()
	log.Info("starting", "node_id", f.nodeID, "listen", f.listen, "raft", f.raftAddr, "data_dir", f.dataDir, "bootstrap", f.bootstrap, "join", f.join)
	if err := os.MkdirAll(f.dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	secret, err := loadSecret(f)
	if err != nil {
		return nil, err
	}
	fsm := state.New()
	rcfg := raftnode.DefaultConfig()
	rcfg.NodeID, rcfg.DataDir, rcfg.RaftAddr = f.nodeID, filepath.Join(f.dataDir, "raft"), f.raftAddr
	rcfg.Bootstrap = f.bootstrap
	f.raftTiming.apply(&rcfg)
	rcfg.Logger = log.With("subsystem", "raft")
	node, err := raftnode.Open(rcfg, fsm)
	if err != nil {
		return nil, fmt.Errorf("open raft in %s: %w", rcfg.DataDir, err)
	}
	v := &voter{node: node, done: make(chan error, 1)}
	if err := v.serve(ctx, f, secret, fsm, log); err != nil {
		v.close()
		return nil, err
	}
	if f.secret != "" {
		if err := os.WriteFile(filepath.Join(f.dataDir, secretFile), []byte(f.secret+"\n"), 0o600); err != nil {
			v.close()
			return nil, fmt.Errorf("write cluster secret: %w", err)
		}
	}
	log.Info("started", "node_id", f.nodeID, "leader", node.IsLeader(), "duration", time.Since(started).Round(time.Millisecond))
	return v, nil
}

// serve starts the limiter and the HTTP listener, joins or bootstraps, and
// marks the node ready once its state is current.
func (v *voter) serve(ctx context.Context, f controlPlaneFlags, secret string, fsm *state.FSM, log *slog.Logger) error {
	var err error
	if v.limiter, err = ratelimit.New(ratelimit.DefaultConfig(), v.node, fsm); err != nil {
		return err
	}
	blobs, err := blob.New(filepath.Join(f.dataDir, "blobs"))
	if err != nil {
		return fmt.Errorf("open blob store: %w", err)
	}
	cl, err := cluster.New(cluster.Config{
		HTTPAddr: f.advertiseHTTP, Secret: secret, Timeout: 10 * time.Second, Blobs: blobs,
		Admin: cluster.AdminByUsername(fsm, embedded.AdminUsername, api.HashKey),
	}, v.node, v.limiter)
	if err != nil {
		return err
	}
	set := metrics.NewSet()
	apiCfg := api.DefaultConfig()
	apiCfg.MaxBody, apiCfg.Version, apiCfg.PublicURL = f.maxBody, version, f.publicURL
	srv := api.New(apiCfg, fsm, accounting.NewRecorder(set), func(ctx *fasthttp.RequestCtx) {
		set.WritePrometheus(ctx)
		metrics.WriteProcessMetrics(ctx)
	}, log.With("subsystem", "api"))
	blobs.SetFetcher(cl.FetchBlob)
	bctx, stopBlobs := context.WithCancel(context.Background())
	v.stopBlobs = stopBlobs
	go blobs.Sync(bctx, blobSyncInterval, fsm.ReferencedBlobs, log.With("subsystem", "blobs"))
	var limiter api.Limiter
	if f.rateLimits {
		limiter = v.limiter
	}
	srv.SetBackend(api.Backend{
		Apply:   v.node.Apply,
		Limiter: limiter,
		// A follower that misses a key's hash catches up before it
		// responds 401, so keys work on every node once created.
		ReadIndex: cl.ReadIndex,
		// Missing blobs are fetched from peers by hash on first use.
		Blobs:     blobs,
		LoadModel: voterModelLoader(log),
		// Derived from the cluster secret, so that every voter accepts the
		// download URLs any voter signed.
		URLSecret: urlSecret(secret),
	})
	fcfg := fleet.DefaultConfig()
	fcfg.Secret = secret
	fl, err := fleet.New(fcfg, fsm, v.node, blobs, v.limiter, log.With("subsystem", "fleet"))
	if err != nil {
		return err
	}
	// Every voter relays the heartbeats it receives to the others, so a
	// node may name any voter in --control-plane.
	fl.SetPeers(cl.PeerURLs)
	srv.SetFleet(fl)
	fctx, stopFleet := context.WithCancel(context.Background())
	v.stopFleet = stopFleet
	go fl.Run(fctx)
	handler := fl.Wrap(cl.Wrap(srv.Handler()))
	v.http = srv.FastHTTPServer()
	v.http.Handler = httpserver.Drained(handler, apiCfg.MaxBody)
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (choose another address with --listen)", f.listen, err)
	}
	go func() { v.done <- v.http.Serve(ln) }()

	if f.join != "" {
		jctx, cancel := context.WithTimeout(ctx, f.joinTimeout)
		defer cancel()
		req := cluster.JoinRequest{ID: f.nodeID, RaftAddr: v.node.Addr(), HTTPAddr: f.advertiseHTTP}
		if err := cl.Join(jctx, strings.TrimSuffix(f.join, "/"), req, 500*time.Millisecond); err != nil {
			if je := (*cluster.JoinError)(nil); errors.As(err, &je) && je.Status == http.StatusConflict {
				return err
			}
			return fmt.Errorf("%w (check --join and --cluster-secret)", err)
		}
	}
	if err := v.node.WaitReady(ctx); err != nil {
		return fmt.Errorf("wait for raft to be ready: %w", err)
	}
	if err := cl.RegisterAddr(ctx); err != nil {
		return err
	}
	if f.bootstrap {
		if err := ensureClusterAdmin(ctx, v.node, fsm, f.dataDir); err != nil {
			return err
		}
	}
	srv.SetReady()
	cl.SetReady()
	return nil
}

// loadSecret returns the cluster secret from the flag or environment, which
// startVoter saves to DATA/cluster.secret once the voter runs, or from
// that file. A bootstrapping node without one creates it.
func loadSecret(f controlPlaneFlags) (string, error) {
	path := filepath.Join(f.dataDir, secretFile)
	if f.secret != "" {
		// The file is written once the voter has started, so that a
		// secret the cluster rejects is not kept for the next start.
		return f.secret, nil
	}
	b, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read cluster secret: %w", err)
	}
	if !f.bootstrap {
		return "", fmt.Errorf("no cluster secret: pass --cluster-secret or set YOLOPLANE_CLUSTER_SECRET to the content of %s on the first voter", secretFile)
	}
	secret := randomHex(32)
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write cluster secret: %w", err)
	}
	return secret, nil
}

func urlSecret(clusterSecret string) []byte {
	sum := sha256.Sum256([]byte("yoloplane download URLs\x00" + clusterSecret))
	return sum[:]
}

// voterModelLoader returns the model loader of control-plane voters. A
// voter loads an uploaded ONNX file to check its layout, and keeps it to
// run the model predicts that no data-plane node holds warm. ONNX Runtime
// is loaded on the first upload, so voters that never see one need no
// library.
func voterModelLoader(log *slog.Logger) func(path string) (*predict.Model, error) {
	var once sync.Once
	var initErr error
	return func(path string) (*predict.Model, error) {
		once.Do(func() {
			lib, err := inference.FindLibrary()
			if err != nil {
				initErr = err
				return
			}
			if initErr = inference.Init(lib); initErr == nil {
				log.Info("onnx runtime loaded", "path", lib)
			}
		})
		if initErr != nil {
			return nil, fmt.Errorf("model %s was stored but cannot be checked on this voter: %w", filepath.Base(path), initErr)
		}
		return predict.Load(path, predict.DefaultConfig())
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("BUG: crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b)
}

// ensureClusterAdmin creates the admin user and its API key on the first
// start of the bootstrapping voter, as `yoloplane serve` does, and writes
// the key to DATA/admin.key.
func ensureClusterAdmin(ctx context.Context, node *raftnode.Node, fsm *state.FSM, dataDir string) error {
	if _, ok := fsm.UserByUsername(embedded.AdminUsername); ok {
		return nil
	}
	now := time.Now().UTC()
	userID, wsID := ids.New(), ids.New()
	if _, err := node.Apply(ctx, &state.CreateUser{UserID: userID, WorkspaceID: wsID,
		Username: embedded.AdminUsername, DisplayName: "Administrator", Plan: state.PlanEnterprise,
		CreatedAt: now}); err != nil {
		return fmt.Errorf("create admin user: %w", err)
	}
	key := api.KeyPrefix + randomHex(20)
	if _, err := node.Apply(ctx, &state.CreateAPIKey{KeyID: ids.New(), UserID: userID, WorkspaceID: wsID,
		Name: "admin", Hash: api.HashKey(key), Prefix: key[:7], CreatedAt: now}); err != nil {
		return fmt.Errorf("create admin API key: %w", err)
	}
	path := filepath.Join(dataDir, "admin.key")
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return fmt.Errorf("write admin key file: %w", err)
	}
	fmt.Printf("\nAdmin API key (shown once, also saved to %s):\n\n    %s\n\n", path, key)
	return nil
}
