package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/yoloplane/yoloplane/bench"
	"github.com/yoloplane/yoloplane/dataplane/inference"
	"github.com/yoloplane/yoloplane/dataplane/predict"
)

func runBench(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var cfg bench.Config
	fs.StringVar(&cfg.URL, "url", "", "predict URL to load, e.g. http://127.0.0.1:8080/api/models/MODEL_ID/predict")
	fs.StringVar(&cfg.File, "file", "", "image file sent in every request")
	fs.StringVar(&cfg.APIKey, "api-key", os.Getenv("YOLOPLANE_API_KEY"), "API key (default $YOLOPLANE_API_KEY)")
	fs.IntVar(&cfg.Concurrency, "concurrency", 1, "requests in flight at once (closed loop), or the most in flight with --rate")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "how long to send load")
	fs.Float64Var(&cfg.Rate, "rate", 0, "fixed request rate per second (open loop); 0 sends back to back")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	raw := fs.Bool("raw", false, "run --model in-process with no HTTP, decode or copies: the machine's limit")
	model := fs.String("model", "", "ONNX model for --raw; with --url, also run raw first and print the ratio")
	threads := fs.Int("threads", 0, "ONNX Runtime intra-op threads for --raw (0: the serve default)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	progress := os.Stderr

	var rawReport *bench.Report
	if *raw || *model != "" {
		if *model == "" {
			return errors.New("--raw needs --model FILE")
		}
		r, err := benchRaw(ctx, *model, *threads, cfg.Concurrency, cfg.Duration, progress)
		if err != nil {
			return err
		}
		rawReport = &r
		if *raw {
			return printReport(r, *asJSON)
		}
		fmt.Fprintln(os.Stderr, "raw in-process:")
		if err := r.WriteText(os.Stderr); err != nil {
			return err
		}
	}
	if cfg.URL == "" {
		return errors.New("missing --url: give the predict URL to load, or --raw --model FILE")
	}
	cfg.Progress = progress
	if err := cfg.Validate(); err != nil {
		return err
	}
	r, err := bench.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if err := printReport(r, *asJSON); err != nil {
		return err
	}
	if rawReport != nil && rawReport.Throughput > 0 {
		fmt.Printf("server/raw throughput ratio: %.3f (%.2f vs %.2f req/s)\n",
			r.Throughput/rawReport.Throughput, r.Throughput, rawReport.Throughput)
		fmt.Printf("server/raw p50 latency ratio: %.3f (%v vs %v)\n",
			float64(r.Latency.P50)/float64(rawReport.Latency.P50), r.Latency.P50, rawReport.Latency.P50)
	}
	return nil
}

func benchRaw(ctx context.Context, path string, threads, concurrency int, d time.Duration, progress *os.File) (bench.Report, error) {
	lib, err := inference.FindLibrary()
	if err != nil {
		return bench.Report{}, err
	}
	if err := inference.Init(lib); err != nil {
		return bench.Report{}, err
	}
	cfg := predict.DefaultConfig()
	if threads > 0 {
		cfg.Session.IntraOpThreads = threads
	}
	m, err := predict.Load(path, cfg)
	if err != nil {
		return bench.Report{}, err
	}
	defer m.Close()
	return bench.RunFunc(ctx, concurrency, d, progress, m.RawRunner())
}

func printReport(r bench.Report, asJSON bool) error {
	if asJSON {
		return r.WriteJSON(os.Stdout)
	}
	return r.WriteText(os.Stdout)
}
