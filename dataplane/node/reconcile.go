package node

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/yoloplane/yoloplane/dataplane/predict"
	"github.com/yoloplane/yoloplane/shared/wire"
)

// statusStopped is the state of a deployment whose desired state is
// stopped. Heartbeats leave such deployments out, because the wire states
// describe models, and a stopped deployment has none.
const statusStopped = "stopped"

// deployment is the node's runtime for one deployment placed on it. The
// node's mu guards every field.
type deployment struct {
	id string
	// status is wire.ModelWarming, wire.ModelReady, wire.ModelFailed or
	// statusStopped, for the desired model.
	status string
	reason string // failure message when status is wire.ModelFailed
	// active is the session predicts use: the desired model once warm, and
	// until then the one that served before, during a replace.
	active *session
	// loading is the SHA-256 of the model file being loaded, or empty.
	loading string
	// failedSHA is the model file whose last load failed. fetchFailed is
	// set when the download failed, which is retried after FetchRetry. A
	// failed load of a downloaded file is not retried for the same file.
	failedSHA   string
	fetchFailed bool
	failedAt    time.Time
	// latency is that of the last predict in nanoseconds, or of the
	// warm-up before one. Predicts update it under the read lock.
	latency atomic.Int64
}

// triggerReconcile wakes the reconciler without waiting for it.
func (n *Node) triggerReconcile() {
	select {
	case n.reconcileCh <- struct{}{}:
	default:
	}
}

// reconcileLoop runs reconcile on every trigger, and every FetchRetry so
// that failed downloads are retried, until ctx ends.
func (n *Node) reconcileLoop(ctx context.Context) {
	tick := time.NewTicker(n.cfg.FetchRetry)
	defer tick.Stop()
	for {
		n.reconcile(ctx)
		select {
		case <-ctx.Done():
			return
		case <-n.reconcileCh:
		case <-tick.C:
		}
	}
}

// reconcile brings the deployment runtimes in line with the current view:
// it creates and removes runtimes, retires the sessions of stopped and
// removed deployments, and starts the loads of missing models.
func (n *Node) reconcile(ctx context.Context) {
	v := n.view.Load()
	if v == nil {
		return
	}
	wanted := make(map[string]*wire.Deployment)
	for i := range v.state.Deployments {
		d := &v.state.Deployments[i]
		if slices.Contains(d.Nodes, n.cfg.NodeID) {
			wanted[d.ID] = d
		}
	}
	ids := make([]string, 0, len(wanted))
	for id := range wanted {
		ids = append(ids, id)
	}
	// Sorting makes the deployments over capacity the same on every run.
	slices.Sort(ids)

	n.mu.Lock()
	defer n.mu.Unlock()
	for id, rt := range n.deploys {
		if wanted[id] == nil {
			n.retireLocked(rt)
			delete(n.deploys, id)
			n.log.Info("removed deployment", "subsystem", "reconcile", "deployment_id", id)
		}
	}
	running := 0
	for _, id := range ids {
		d := wanted[id]
		rt := n.deploys[id]
		if rt == nil {
			rt = &deployment{id: id, status: wire.ModelWarming}
			n.deploys[id] = rt
		}
		if d.Desired != wire.DesiredRunning {
			n.stopLocked(rt)
			continue
		}
		running++
		if running > n.cfg.Capacity {
			n.retireLocked(rt)
			n.failLocked(rt, fmt.Sprintf("node capacity of %d deployments reached: place the deployment on another node", n.cfg.Capacity))
			continue
		}
		n.ensureModelLocked(ctx, rt, d.Model)
	}
	n.publishModelsLocked()
}

func (n *Node) stopLocked(rt *deployment) {
	if rt.status != statusStopped {
		n.log.Info("stopped deployment", "subsystem", "reconcile", "deployment_id", rt.id)
	}
	n.retireLocked(rt)
	rt.status, rt.reason = statusStopped, ""
}

func (n *Node) retireLocked(rt *deployment) {
	if rt.active != nil {
		rt.active.retire()
		rt.active = nil
	}
}

func (n *Node) failLocked(rt *deployment, reason string) {
	if rt.status != wire.ModelFailed || rt.reason != reason {
		n.log.Error("deployment failed", "subsystem", "reconcile", "deployment_id", rt.id, "reason", reason)
	}
	rt.status, rt.reason = wire.ModelFailed, reason
}

// ensureModelLocked starts loading ref unless it is active, being loaded,
// or failed to load recently.
func (n *Node) ensureModelLocked(ctx context.Context, rt *deployment, ref wire.ModelRef) {
	if rt.active != nil && rt.active.ref.SHA256 == ref.SHA256 {
		rt.status, rt.reason = wire.ModelReady, ""
		return
	}
	if rt.loading != "" {
		// A load of an older revision finishes first and then triggers
		// another reconcile, which starts this one.
		return
	}
	if rt.failedSHA == ref.SHA256 && (!rt.fetchFailed || time.Since(rt.failedAt) < n.cfg.FetchRetry) {
		return
	}
	if rt.status != wire.ModelFailed || rt.failedSHA != ref.SHA256 {
		rt.status, rt.reason = wire.ModelWarming, ""
	}
	rt.loading = ref.SHA256
	n.log.Info("loading model", "subsystem", "reconcile", "deployment_id", rt.id,
		"model_id", ref.ModelID, "sha256", ref.SHA256, "replaces", rt.active != nil)
	n.wg.Add(1)
	go n.load(ctx, rt, ref)
}

// load downloads and warms ref, then installs it as rt's active session if
// the deployment still wants it.
func (n *Node) load(ctx context.Context, rt *deployment, ref wire.ModelRef) {
	defer n.wg.Done()
	started := time.Now()
	var m *predict.Model
	path, err := n.ensureBlob(ctx, ref.SHA256)
	fetchFailed := err != nil
	if err == nil {
		m, err = predict.Load(path, n.cfg.Predict)
	}
	warmup := time.Since(started)

	n.mu.Lock()
	rt.loading = ""
	switch {
	case err != nil:
		rt.failedSHA, rt.fetchFailed, rt.failedAt = ref.SHA256, fetchFailed, time.Now()
		if n.wantsLocked(rt, ref) {
			n.failLocked(rt, err.Error())
		}
	case !n.wantsLocked(rt, ref) || ctx.Err() != nil:
		n.log.Info("discarded a model no longer wanted", "subsystem", "reconcile", "deployment_id", rt.id, "sha256", ref.SHA256)
		if cerr := m.Close(); cerr != nil {
			n.log.Error("close model session failed", "subsystem", "reconcile", "deployment_id", rt.id, "error", cerr)
		}
	default:
		old := rt.active
		rt.active = &session{ref: ref, model: m, warmup: warmup, log: n.log.With("subsystem", "reconcile", "deployment_id", rt.id)}
		rt.status, rt.reason, rt.failedSHA = wire.ModelReady, "", ""
		rt.latency.Store(int64(warmup))
		if old != nil {
			old.retire()
		}
		n.log.Info("model ready", "subsystem", "reconcile", "deployment_id", rt.id,
			"model_id", ref.ModelID, "sha256", ref.SHA256, "duration", warmup)
	}
	n.mu.Unlock()
	n.triggerReconcile()
}

// wantsLocked reports whether rt is still on the node, running and
// wanting the model file of ref.
func (n *Node) wantsLocked(rt *deployment, ref wire.ModelRef) bool {
	if n.deploys[rt.id] != rt {
		return false
	}
	v := n.view.Load()
	d, ok := v.placed(rt.id, n.cfg.NodeID)
	return ok && d.Desired == wire.DesiredRunning && d.Model.SHA256 == ref.SHA256
}

// ensureBlob returns the local path of a model file, downloading it from
// the control plane when the store lacks it.
func (n *Node) ensureBlob(ctx context.Context, sha string) (string, error) {
	if !n.blobs.Has(sha) {
		if err := n.cp.fetchBlob(ctx, n.cfg.BlobTimeout, n.blobs, sha); err != nil {
			return "", err
		}
	}
	return n.blobs.Path(sha), nil
}
