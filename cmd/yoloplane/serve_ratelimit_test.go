package main

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/yoloplane/yoloplane/controlplane/api"
	"github.com/yoloplane/yoloplane/controlplane/raftnode"
	"github.com/yoloplane/yoloplane/controlplane/state"
)

// freeTeamKey creates a team workspace, which starts on the free plan, and
// returns a new API key of it. The admin's own workspace is enterprise.
func freeTeamKey(t *testing.T, baseURL, adminKey, slug string) string {
	t.Helper()
	status, _, body, err := request("POST", baseURL+"/api/teams/create", adminKey, []byte(`{"slug":"`+slug+`"}`))
	if err != nil || status != http.StatusCreated {
		t.Fatalf("create team: status %d, err %v: %s", status, err, body)
	}
	status, _, body, err = request("POST", baseURL+"/api/api-keys", adminKey, []byte(`{"name":"free","owner":"`+slug+`"}`))
	if err != nil || status != http.StatusCreated {
		t.Fatalf("create team key: status %d, err %v: %s", status, err, body)
	}
	var created struct{ Key string }
	if err := json.Unmarshal(body, &created); err != nil || created.Key == "" {
		t.Fatalf("create team key: %v: %s", err, body)
	}
	return created.Key
}

// TestServeRateLimitRace sends 61 concurrent requests with a free-plan key
// to `yoloplane serve`: exactly 60 get through.
func TestServeRateLimitRace(t *testing.T) {
	s := startServer(t, t.TempDir())
	key := freeTeamKey(t, s.baseURL, s.key, "free-team")
	var ok, limited atomic.Int64
	var wg sync.WaitGroup
	for i := range 61 {
		wg.Go(func() {
			status, h, _, err := request("GET", s.baseURL+"/api/projects", key, nil)
			switch {
			case err != nil:
				t.Errorf("request %d: %v", i, err)
			case status == 200 && h.Get("X-RateLimit-Limit") == "60":
				ok.Add(1)
			case status == http.StatusTooManyRequests && h.Get("Retry-After") != "":
				limited.Add(1)
			default:
				t.Errorf("request %d: status %d, X-RateLimit-Limit %q, Retry-After %q", i, status, h.Get("X-RateLimit-Limit"), h.Get("Retry-After"))
			}
		})
	}
	wg.Wait()
	if ok.Load() != 60 || limited.Load() != 1 {
		t.Fatalf("%d allowed and %d limited of 61, want 60 and 1", ok.Load(), limited.Load())
	}
}

// TestServeDayCountSurvivesRestart makes 5 requests, restarts the server,
// makes one more and then reads the committed day total from the stopped
// server's Raft log: 6 shows that the restarted server counted on from the
// committed 5 rather than from zero.
func TestServeDayCountSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir)
	for i := range 5 {
		if status, _, body, err := request("GET", s.baseURL+"/api/projects", s.key, nil); err != nil || status != 200 {
			t.Fatalf("request %d: status %d, err %v: %s", i+1, status, err, body)
		}
	}
	stopServer(t, s)

	s = startServer(t, dir)
	status, h, body, err := request("GET", s.baseURL+"/api/projects", s.key, nil)
	if err != nil || status != 200 {
		t.Fatalf("request after restart: status %d, err %v: %s", status, err, body)
	}
	// The minute window starts again on a new leader; only the day count
	// is committed.
	limit, err := strconv.Atoi(h.Get("X-RateLimit-Limit"))
	if err != nil {
		t.Fatalf("X-RateLimit-Limit = %q: %v", h.Get("X-RateLimit-Limit"), err)
	}
	if got, want := h.Get("X-RateLimit-Remaining"), strconv.Itoa(limit-1); got != want {
		t.Errorf("X-RateLimit-Remaining after restart = %q, want %s (a new minute window)", got, want)
	}
	stopServer(t, s)

	if got := committedDayCount(t, dir, s.key); got != 6 {
		t.Fatalf("committed day count = %d, want 6 (5 before the restart, 1 after)", got)
	}
}

// stopServer sends SIGTERM, as an operator would, and waits for the exit.
func stopServer(t *testing.T, s *server) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("server exit: %v; stderr:\n%s", err, s.stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("server did not stop within 30s of SIGTERM; stderr:\n%s", s.stderr)
	}
}

// committedDayCount opens the Raft state of a stopped server and returns
// today's committed request count of the API key.
func committedDayCount(t *testing.T, dataDir, key string) int64 {
	t.Helper()
	fsm := state.New()
	cfg := raftnode.DefaultConfig()
	cfg.NodeID, cfg.DataDir, cfg.Bootstrap = "embedded", filepath.Join(dataDir, "raft"), true
	node, err := raftnode.Open(cfg, fsm)
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := node.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	k, ok := fsm.KeyByHash(api.HashKey(key))
	if !ok {
		t.Fatal("admin key missing from the restored state")
	}
	return fsm.DayCount(k.ID, state.DayKey(time.Now()))
}
