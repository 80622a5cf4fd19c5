package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/VictoriaMetrics/metrics"

	"github.com/yoloplane/yoloplane/dataplane/node"
)

// parseDataPlaneFlags turns the dataplane subcommand's flags into a node
// configuration and the log level.
func parseDataPlaneFlags(args []string) (node.Config, string, error) {
	cfg := node.DefaultConfig()
	cfg.Version = version
	var join stringList
	var secretFile string

	fs := flag.NewFlagSet("dataplane", flag.ContinueOnError)
	fs.StringVar(&cfg.NodeID, "node-id", "", "ID of this node, unique in the fleet (required)")
	fs.StringVar(&cfg.Region, "region", cfg.Region, "region ID the node serves, from the region catalog")
	fs.StringVar(&cfg.Listen, "listen", cfg.Listen, "address the predict, health and metrics routes listen on (host:port)")
	fs.StringVar(&cfg.AdvertiseHTTP, "advertise-http", "", "host:port the control plane and peers reach --listen at; empty means the bound --listen address")
	fs.StringVar(&cfg.GossipBind, "gossip", cfg.GossipBind, "address of the region's gossip pool (host:port, UDP and TCP); empty disables gossip")
	fs.Var(&join, "join", "gossip address (host:port) of a node already in the region's pool; repeat for several")
	fs.StringVar(&cfg.ControlPlane, "control-plane", "", "base URL of a control-plane voter, such as http://10.0.0.1:8080, or a comma-separated list of voter URLs to fail over between (required)")
	fs.StringVar(&cfg.DataDir, "data", "", "data directory for the cached fleet state and model files (required)")
	fs.StringVar(&secretFile, "secret-file", "", "file that contains the cluster secret (default $YOLOPLANE_CLUSTER_SECRET)")
	fs.IntVar(&cfg.Capacity, "capacity", cfg.Capacity, "deployments the node keeps warm at once")
	fs.Int64Var(&cfg.MaxBody, "max-body", cfg.MaxBody, "largest predict request body in bytes; larger uploads get 413")
	fs.BoolVar(&cfg.AllowURLSource, "allow-url-source", false, "let predict requests name an http(s) URL in the source field")
	fs.DurationVar(&cfg.PredictTimeout, "predict-timeout", cfg.PredictTimeout, "how long a predict may wait for a free inference slot before a 503")
	fs.IntVar(&cfg.Predict.Slots, "slots", cfg.Predict.Slots, "predicts that may run one model's session at the same time")
	fs.IntVar(&cfg.Predict.Session.IntraOpThreads, "threads", cfg.Predict.Session.IntraOpThreads, "ONNX Runtime intra-op threads per session")
	fs.Int64Var(&cfg.Predict.MaxPixels, "max-pixels", cfg.Predict.MaxPixels, "largest image accepted, in pixels (width times height), checked before decoding")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return cfg, "", err
	}

	switch {
	case fs.NArg() > 0:
		return cfg, "", fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case cfg.NodeID == "":
		return cfg, "", errors.New("--node-id is required")
	case cfg.ControlPlane == "":
		return cfg, "", errors.New("--control-plane is required")
	case cfg.DataDir == "":
		return cfg, "", errors.New("--data is required")
	}
	cfg.GossipJoin = join
	secret, err := readSecret(secretFile)
	if err != nil {
		return cfg, "", err
	}
	cfg.Secret = secret
	return cfg, *logLevel, nil
}

// readSecret reads the cluster secret from path, or from
// $YOLOPLANE_CLUSTER_SECRET when path is empty.
func readSecret(path string) (string, error) {
	if path == "" {
		if s := os.Getenv("YOLOPLANE_CLUSTER_SECRET"); s != "" {
			return s, nil
		}
		return "", errors.New("missing cluster secret: pass --secret-file or set $YOLOPLANE_CLUSTER_SECRET")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read --secret-file: %w", err)
	}
	secret := strings.TrimSpace(string(b))
	if secret == "" {
		return "", fmt.Errorf("--secret-file %s is empty", path)
	}
	return secret, nil
}

func runDataPlane(args []string) error {
	cfg, logLevel, err := parseDataPlaneFlags(args)
	if err != nil {
		return err
	}
	log, err := newLogger(logLevel)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("create --data directory: %w", err)
	}
	// Prometheus needs # TYPE lines to treat histograms as histograms.
	metrics.ExposeMetadata(true)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	n, err := node.Start(cfg, log)
	if err != nil {
		return err
	}
	fmt.Printf("Data-plane node %s serving on http://%s\n", cfg.NodeID, n.Addr())
	waitForStop(ctx, n.Wait, log)
	return n.Close()
}
