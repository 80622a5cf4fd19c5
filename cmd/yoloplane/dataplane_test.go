package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDataPlaneFlags(t *testing.T) {
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, level, err := parseDataPlaneFlags([]string{"--node-id", "n1", "--region", "europe-west4",
		"--listen", "127.0.0.1:9000", "--gossip", "127.0.0.1:7000", "--join", "10.0.0.1:7946", "--join", "10.0.0.2:7946",
		"--control-plane", "http://127.0.0.1:8080", "--data", "/tmp/dp", "--secret-file", secretFile, "--log-level", "debug"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.NodeID != "n1" || cfg.Region != "europe-west4" || cfg.Listen != "127.0.0.1:9000" || cfg.GossipBind != "127.0.0.1:7000" {
		t.Errorf("config = %+v", cfg)
	}
	if len(cfg.GossipJoin) != 2 || cfg.GossipJoin[1] != "10.0.0.2:7946" {
		t.Errorf("join = %v", cfg.GossipJoin)
	}
	if cfg.Secret != "s3cret" || level != "debug" {
		t.Errorf("secret %q, level %q", cfg.Secret, level)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("parsed config invalid: %v", err)
	}
}

func TestDataPlaneFlagErrors(t *testing.T) {
	t.Setenv("YOLOPLANE_CLUSTER_SECRET", "")
	base := []string{"--node-id", "n1", "--control-plane", "http://127.0.0.1:8080", "--data", "/tmp/dp"}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no node ID", base[2:], "--node-id"},
		{"no control plane", append(base[:2:2], base[4:]...), "--control-plane"},
		{"no data", base[:4], "--data"},
		{"no secret", base, "cluster secret"},
		{"missing secret file", append(base, "--secret-file", "/nonexistent/secret"), "--secret-file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := parseDataPlaneFlags(tc.args)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}
