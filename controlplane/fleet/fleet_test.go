package fleet

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/yoloplane/yoloplane/controlplane/blob"
	"github.com/yoloplane/yoloplane/controlplane/state"
	"github.com/yoloplane/yoloplane/shared/wire"
)

// memRaft applies commands straight to a state machine, as a single voter
// that always leads.
type memRaft struct {
	mu    sync.Mutex
	fsm   *state.FSM
	index uint64
}

func (r *memRaft) IsLeader() bool { return true }

func (r *memRaft) Apply(_ context.Context, cmd state.Command) (any, error) {
	data, err := state.Encode(cmd)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.index++
	l := &raft.Log{Index: r.index, Term: 1, Type: raft.LogCommand, Data: data}
	r.mu.Unlock()
	resp := r.fsm.Apply(l)
	if err, ok := resp.(error); ok {
		return nil, err
	}
	return resp, nil
}

type harness struct {
	t    *testing.T
	svc  *Service
	raft *memRaft
	now  time.Time
	mu   sync.Mutex
}

var t0 = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

func id(n int) string { return fmt.Sprintf("%024x", n) }

func newHarness(t *testing.T) *harness {
	t.Helper()
	blobs, err := blob.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, raft: &memRaft{fsm: state.New()}, now: t0}
	cfg := DefaultConfig()
	cfg.Secret = strings.Repeat("s", 32)
	h.svc, err = New(cfg, h.raft.fsm, h.raft, blobs, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	h.svc.now = h.clock
	h.must(&state.CreateUser{UserID: id(1), WorkspaceID: id(2), Username: "ada", CreatedAt: t0})
	h.must(&state.CreateProject{ProjectID: id(3), WorkspaceID: id(2), Slug: "p", Name: "p", CreatedAt: t0})
	for _, n := range []int{4, 5} {
		h.must(&state.CreateModel{ModelID: id(n), ProjectID: id(3), Slug: fmt.Sprintf("m%d", n), Name: "m",
			Format: state.FormatONNX, FileSHA256: strings.Repeat(fmt.Sprint(n), 64), FileSize: 10,
			Status: state.ModelStatusReady, CreatedAt: t0})
	}
	return h
}

func (h *harness) clock() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.now
}

func (h *harness) advance(d time.Duration) {
	h.mu.Lock()
	h.now = h.now.Add(d)
	h.mu.Unlock()
}

func (h *harness) must(cmd state.Command) any {
	h.t.Helper()
	v, err := h.raft.Apply(context.Background(), cmd)
	if err != nil {
		h.t.Fatalf("apply %T: %v", cmd, err)
	}
	return v
}

func (h *harness) beat(node, region string, capacity int, deps map[string]string) {
	h.svc.Observe(wire.Heartbeat{NodeID: node, Region: region, HTTPAddr: node + ".invalid:80", Capacity: capacity,
		Deployments: deps, StateVersion: h.svc.Current().Version})
}

func (h *harness) deployment(n int) state.Deployment {
	h.t.Helper()
	d, ok := h.raft.fsm.DeploymentByID(id(n))
	if !ok {
		h.t.Fatalf("deployment %s missing", id(n))
	}
	return d
}

func (h *harness) create(n int, slug, region string) {
	h.must(&state.CreateDeployment{DeploymentID: id(n), WorkspaceID: id(2), Slug: slug, Name: slug, ModelID: id(4), Region: region, CreatedAt: t0})
}

func TestPlaceOnLeastLoadedNodeOfRegion(t *testing.T) {
	h := newHarness(t)
	h.beat("a", "us-central1", 4, nil)
	h.beat("b", "us-central1", 4, nil)
	h.beat("eu", "europe-west1", 4, nil)
	h.create(10, "one", "us-central1")
	h.create(11, "two", "us-central1")
	h.create(12, "three", "europe-west1")
	h.svc.reconcile(context.Background())

	one, two, three := h.deployment(10), h.deployment(11), h.deployment(12)
	if len(one.Nodes) != 1 || len(two.Nodes) != 1 || one.Nodes[0] == two.Nodes[0] {
		t.Errorf("nodes of the two us deployments = %v and %v, want one each on different nodes", one.Nodes, two.Nodes)
	}
	if len(three.Nodes) != 1 || three.Nodes[0] != "eu" {
		t.Errorf("nodes of the europe deployment = %v, want [eu]", three.Nodes)
	}
	if one.Status != state.DeploymentDeploying {
		t.Errorf("status after placement = %s, want deploying", one.Status)
	}
}

func TestNoNodeInRegionWaits(t *testing.T) {
	h := newHarness(t)
	h.beat("a", "us-central1", 4, nil)
	h.create(10, "one", "asia-east1")
	h.svc.reconcile(context.Background())
	d := h.deployment(10)
	if len(d.Nodes) != 0 || d.Status != state.DeploymentDeploying || !strings.Contains(d.StatusMessage, "asia-east1") {
		t.Errorf("deployment = nodes %v status %s message %q, want no node, deploying, a message naming the region", d.Nodes, d.Status, d.StatusMessage)
	}
}

func TestReadyAndFailedFromHeartbeats(t *testing.T) {
	h := newHarness(t)
	h.beat("a", "us-central1", 4, nil)
	h.create(10, "one", "us-central1")
	h.svc.reconcile(context.Background())

	h.beat("a", "us-central1", 4, map[string]string{id(10): wire.ModelReady})
	h.svc.reconcile(context.Background())
	if d := h.deployment(10); d.Status != state.DeploymentReady {
		t.Fatalf("status after the node reported ready = %s, want ready", d.Status)
	}

	h.must(&state.ReplaceDeploymentModel{DeploymentID: id(10), ModelID: id(5), UpdatedAt: t0})
	// A report from before the node saw the new revision must not count.
	h.svc.Observe(wire.Heartbeat{NodeID: "a", Region: "us-central1", HTTPAddr: "a:1", Capacity: 4,
		Deployments: map[string]string{id(10): wire.ModelReady}, StateVersion: 1})
	h.svc.reconcile(context.Background())
	if d := h.deployment(10); d.Status != state.DeploymentDeploying {
		t.Errorf("status after a stale ready report = %s, want deploying", d.Status)
	}

	h.svc.Observe(wire.Heartbeat{NodeID: "a", Region: "us-central1", HTTPAddr: "a:1", Capacity: 4,
		Deployments: map[string]string{id(10): wire.ModelFailed}, Errors: map[string]string{id(10): "bad output layout"},
		StateVersion: h.svc.Current().Version})
	h.svc.reconcile(context.Background())
	d := h.deployment(10)
	if d.Status != state.DeploymentFailed || !strings.Contains(d.StatusMessage, "bad output layout") {
		t.Errorf("deployment = status %s message %q, want failed with the node's error", d.Status, d.StatusMessage)
	}
}

func TestNodeDeathMovesDeployment(t *testing.T) {
	h := newHarness(t)
	h.beat("a", "us-central1", 4, nil)
	h.create(10, "one", "us-central1")
	h.svc.reconcile(context.Background())
	first := h.deployment(10).Nodes
	if len(first) != 1 || first[0] != "a" {
		t.Fatalf("first placement = %v, want [a]", first)
	}

	h.advance(2 * time.Second)
	h.beat("b", "us-central1", 4, nil)
	h.advance(5 * time.Second) // a is silent for 7 s, past the 6 s TTL
	h.beat("b", "us-central1", 4, nil)
	h.svc.reconcile(context.Background())

	d := h.deployment(10)
	if len(d.Nodes) != 1 || d.Nodes[0] != "b" {
		t.Fatalf("placement after a died = %v, want [b]", d.Nodes)
	}
	if want := "moved from node a after it stopped heartbeating"; d.StatusMessage != want {
		t.Errorf("status message = %q, want %q", d.StatusMessage, want)
	}
	if got := h.svc.ServingAddrs(id(10), d.Nodes); len(got) != 0 {
		t.Errorf("serving addresses before b is ready = %v, want none", got)
	}
	h.beat("b", "us-central1", 4, map[string]string{id(10): wire.ModelReady})
	if got := h.svc.ServingAddrs(id(10), d.Nodes); len(got) != 1 || got[0] != "b.invalid:80" {
		t.Errorf("serving addresses = %v, want [b.invalid:80]", got)
	}
}

func TestStoppedDeploymentIsNotPlaced(t *testing.T) {
	h := newHarness(t)
	h.beat("a", "us-central1", 4, nil)
	h.create(10, "one", "us-central1")
	h.must(&state.UpdateDeploymentDesired{DeploymentID: id(10), Desired: state.DesiredStopped, UpdatedAt: t0})
	h.svc.reconcile(context.Background())
	if d := h.deployment(10); len(d.Nodes) != 0 || d.Status != state.DeploymentStopped {
		t.Errorf("stopped deployment = nodes %v status %s, want no nodes and stopped", d.Nodes, d.Status)
	}
}

func TestWatchVersionChangesOnlyWithFleetState(t *testing.T) {
	h := newHarness(t)
	v1 := h.svc.Current().Version
	h.must(&state.RecordEvent{Event: state.Event{ID: id(40), WorkspaceID: id(2), UserID: id(1), Action: "x", ResourceType: "model", ResourceID: id(4), Message: "m", CreatedAt: t0}})
	if v := h.svc.Current().Version; v != v1 {
		t.Errorf("version after an unrelated command = %d, want %d", v, v1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan wire.FleetState, 1)
	go func() {
		st, _ := h.svc.Wait(ctx, v1)
		done <- st
	}()
	h.create(10, "one", "us-central1")
	st := <-done
	if st.Version <= v1 || len(st.Deployments) != 1 || st.Deployments[0].Owner != "ada" || st.Deployments[0].Name != "one" {
		t.Errorf("watch returned %+v, want a newer version with deployment one of ada", st)
	}
	if len(st.Keys) != 0 {
		t.Errorf("keys = %v, want none because no key was created", st.Keys)
	}
}

func TestLocalLeaseStopsAtPlanLimit(t *testing.T) {
	h := newHarness(t)
	g, err := h.svc.Lease(context.Background(), wire.QuotaRequest{KeyID: "k", Plan: "free", Want: 50})
	if err != nil || g.Granted != 50 {
		t.Fatalf("first lease = %+v, %v; want 50 granted", g, err)
	}
	g, _ = h.svc.Lease(context.Background(), wire.QuotaRequest{KeyID: "k", Plan: "free", Want: 50})
	if g.Granted != 10 || g.Remaining != 0 {
		t.Errorf("second lease = %+v, want the 10 left of the free plan's 60 a minute", g)
	}
	g, _ = h.svc.Lease(context.Background(), wire.QuotaRequest{KeyID: "k", Plan: "free", Want: 1})
	if g.Granted != 0 || g.RetryAfterSeconds <= 0 {
		t.Errorf("third lease = %+v, want none granted and a retry delay", g)
	}
}
