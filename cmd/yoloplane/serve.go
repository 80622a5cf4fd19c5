package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/VictoriaMetrics/metrics"

	"github.com/yoloplane/yoloplane/controlplane/api"
	"github.com/yoloplane/yoloplane/controlplane/embedded"
	"github.com/yoloplane/yoloplane/dataplane/predict"
	"github.com/yoloplane/yoloplane/regions"
)

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func runServe(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg := embedded.Config{API: api.DefaultConfig(), Predict: predict.DefaultConfig()}
	var models stringList
	fs.StringVar(&cfg.Listen, "listen", "127.0.0.1:8080", "address the REST API listens on (host:port)")
	fs.StringVar(&cfg.DataDir, "data", "./data", "data directory for the control-plane state, blobs and admin.key")
	fs.Var(&models, "model", "ONNX model file to register and serve; repeat for several models")
	fs.Int64Var(&cfg.API.MaxBody, "max-body", cfg.API.MaxBody, "largest request body in bytes; larger uploads get 413")
	fs.BoolVar(&cfg.API.AllowURLSource, "allow-url-source", false, "let predict requests name an http(s) URL in the source field")
	fs.StringVar(&cfg.API.PublicURL, "public-url", "", publicURLHelp)
	fs.DurationVar(&cfg.API.PredictTimeout, "predict-timeout", cfg.API.PredictTimeout, "how long a predict may wait for a free inference slot before a 503")
	fs.IntVar(&cfg.Predict.Slots, "slots", cfg.Predict.Slots, "predicts that may run one model's session at the same time")
	fs.IntVar(&cfg.Predict.Session.IntraOpThreads, "threads", cfg.Predict.Session.IntraOpThreads, "ONNX Runtime intra-op threads per session")
	fs.Int64Var(&cfg.Predict.MaxPixels, "max-pixels", cfg.Predict.MaxPixels, "largest image accepted, in pixels (width times height), checked before decoding")
	fs.StringVar(&cfg.NodeListen, "node-listen", embedded.DefaultNodeListen, "address the in-process data-plane node listens on (host:port); it serves deployments in "+regions.DefaultRegion+", and port 0 picks a free port")
	fs.BoolVar(&cfg.DisableNode, "no-node", false, "run no in-process data-plane node, so that only nodes started with yoloplane dataplane serve deployments")
	rateLimits := fs.Bool("rate-limits", true, "enforce the per-key plan rate limits; turn off only for load tests")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: pass model files with --model", fs.Arg(0))
	}
	if err := checkPublicURL(cfg.API.PublicURL); err != nil {
		return err
	}
	cfg.Models = models
	cfg.DisableRateLimits = !*rateLimits
	// Prometheus needs # TYPE lines to treat histograms as histograms.
	metrics.ExposeMetadata(true)
	cfg.API.Version = version
	log, err := newLogger(*logLevel)
	if err != nil {
		return err
	}
	cfg.KeyOut = func(key, path string) {
		fmt.Printf("\nAdmin API key (shown once, also saved to %s):\n\n    %s\n\n", path, key)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := embedded.Start(ctx, cfg, log)
	if err != nil {
		return err
	}
	fmt.Printf("Serving on http://%s (models: %d)\n", srv.Addr(), len(models))
	if addr := srv.NodeAddr(); addr != "" {
		fmt.Printf("Data-plane node %s serving deployments in %s on http://%s\n", embedded.InProcessNodeID, regions.DefaultRegion, addr)
	}
	waitForStop(ctx, srv.Wait, log)
	return srv.Close()
}
