package embedded

import (
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/yoloplane/yoloplane/dataplane/node"
	"github.com/yoloplane/yoloplane/regions"
)

// InProcessNodeID is the fleet node ID of the data-plane node that serve
// runs in its own process.
const InProcessNodeID = "embedded"

// DefaultNodeListen is where the in-process node listens unless
// Config.NodeListen says otherwise: a free loopback port, because only
// this process and local clients of a deployment's serviceUrl reach it.
const DefaultNodeListen = "127.0.0.1:0"

// startNode starts the in-process data-plane node in the default region.
// It follows the fleet state through this server's own listener, like any
// other node, so placement, blob downloads and heartbeats take the same
// path as on a real fleet. Call it after the listener serves.
func (s *Server) startNode(secret string, log *slog.Logger) error {
	cfg := node.DefaultConfig()
	cfg.NodeID = InProcessNodeID
	cfg.Region = regions.DefaultRegion
	cfg.Listen = s.cfg.NodeListen
	if cfg.Listen == "" {
		cfg.Listen = DefaultNodeListen
	}
	// Gossip finds peers in a region, and the in-process node has none.
	cfg.GossipBind = ""
	cfg.ControlPlane = "http://" + s.ln.Addr().String()
	cfg.Secret = secret
	cfg.DataDir = filepath.Join(s.cfg.DataDir, "node")
	cfg.Version = s.cfg.API.Version
	cfg.Predict = s.cfg.Predict
	cfg.MaxBody = s.cfg.API.MaxBody
	cfg.AllowURLSource = s.cfg.API.AllowURLSource
	cfg.PredictTimeout = s.cfg.API.PredictTimeout
	n, err := node.Start(cfg, log.With("component", "node"))
	if err != nil {
		return fmt.Errorf("start in-process data-plane node (change its address with --node-listen): %w", err)
	}
	s.dataNode = n
	return nil
}

// NodeAddr returns the host:port of the in-process data-plane node, or ""
// when it is off.
func (s *Server) NodeAddr() string {
	if s.dataNode == nil {
		return ""
	}
	return s.dataNode.Addr()
}
