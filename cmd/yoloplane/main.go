// Command yoloplane is the single Yoloplane binary: the embedded server
// (serve), the control-plane voter (controlplane), the data-plane node
// (dataplane) and the load generator (bench). Each subcommand parses its own flags and hands off
// to a library package.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `yoloplane: self-hosted Ultralytics Platform API and YOLO inference gateway

Usage:
  yoloplane serve [--listen ADDR] [--data DIR] [--model FILE]... [--node-listen ADDR | --no-node]
  yoloplane controlplane --node-id ID --data DIR ...
  yoloplane dataplane --node-id ID --region REGION --control-plane URL[,URL...] --data DIR --secret-file FILE
  yoloplane bench --url URL --file IMG --api-key KEY [--concurrency N] [--duration D] [--rate R] [--json]
  yoloplane bench --raw --model FILE [--file IMG] [--duration D]
  yoloplane version

serve runs one data-plane node in its own process, in the default region
(us-central1), on --node-listen (default 127.0.0.1:0, a free port), so that
deployments work without another process.

Run "yoloplane COMMAND --help" for the flags of a command.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = runServe(os.Args[2:])
	case "controlplane":
		err = runControlPlane(os.Args[2:])
	case "dataplane":
		err = runDataPlane(os.Args[2:])
	case "bench":
		err = runBench(os.Args[2:])
	case "version", "--version":
		fmt.Println("yoloplane", version)
	case "help", "-h", "--help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if errors.Is(err, flag.ErrHelp) {
		// The flag package has printed the command's help already.
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "yoloplane:", err)
		os.Exit(1)
	}
}

func newLogger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		return nil, fmt.Errorf("invalid --log-level %q: use debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l})), nil
}

// waitForStop blocks until ctx ends, which a signal does, or until wait
// returns because the server stopped by itself, and logs which of the two
// happened. The caller then closes the server.
func waitForStop(ctx context.Context, wait func() error, log *slog.Logger) {
	errc := make(chan error, 1)
	go func() { errc <- wait() }()
	select {
	case <-ctx.Done():
		log.Info("stopping", "reason", "signal")
	case err := <-errc:
		if err != nil {
			log.Error("http server stopped", "error", err)
		}
	}
}
