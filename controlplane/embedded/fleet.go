package embedded

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/yoloplane/yoloplane/controlplane/fleet"
)

// ClusterSecretFile holds the secret data-plane nodes send on the internal
// fleet routes, so that nodes can join the embedded control plane with
// --secret-file pointing at it.
const ClusterSecretFile = "cluster.secret"

// loadClusterSecret reads DATA/cluster.secret, creating a random one on
// first start.
func loadClusterSecret(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		return strings.TrimSpace(string(b)), nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read cluster secret: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("generate cluster secret: %w", err)
	}
	secret := hex.EncodeToString(raw)
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write cluster secret: %w", err)
	}
	return secret, nil
}

// startFleet starts the fleet controller, installs it in the API and puts
// its internal routes in front of the HTTP handler. It returns the cluster
// secret. Call it before Serve.
func (s *Server) startFleet(log *slog.Logger) (string, error) {
	secret, err := loadClusterSecret(filepath.Join(s.cfg.DataDir, ClusterSecretFile))
	if err != nil {
		return "", err
	}
	cfg := fleet.DefaultConfig()
	cfg.Secret = secret
	// The API's limiter, so that predicts on nodes and requests to this
	// process draw on one count per key. Nil when rate limits are off.
	fl, err := fleet.New(cfg, s.fsm, s.node, s.blobs, s.limiter, log.With("subsystem", "fleet"))
	if err != nil {
		return "", err
	}
	s.api.SetFleet(fl)
	s.http.Handler = fl.Wrap(s.http.Handler)
	ctx, stop := context.WithCancel(context.Background())
	s.stopFleet = stop
	go fl.Run(ctx)
	return secret, nil
}
