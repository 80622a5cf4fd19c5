package node

import (
	"net/http"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/shared/apierr"
	"github.com/yoloplane/yoloplane/shared/wire"
)

// deploymentHealth is the contract's DeploymentHealthResponse. Status is
// the HTTP status a predict gets now.
type deploymentHealth struct {
	Healthy   bool    `json:"healthy"`
	Status    int     `json:"status"`
	LatencyMs float64 `json:"latencyMs"`
	Error     string  `json:"error,omitempty"`
}

func (n *Node) serveDeploymentHealth(ctx *fasthttp.RequestCtx, id string) {
	v := n.view.Load()
	key, aerr := authenticate(ctx, v)
	if aerr != nil {
		n.reject(ctx, aerr)
		return
	}
	var d *wire.Deployment
	if v != nil {
		d, _ = v.placed(id, n.cfg.NodeID)
	}
	if d == nil || !canRead(key, d) {
		n.reject(ctx, deploymentNotFound(id))
		return
	}
	writeJSON(ctx, http.StatusOK, n.deploymentHealth(d))
}

func (n *Node) deploymentHealth(d *wire.Deployment) deploymentHealth {
	if d.Desired != wire.DesiredRunning {
		return deploymentHealth{Status: http.StatusConflict,
			Error: "deployment is stopped: start it with POST /api/deployments/" + d.ID + "/start"}
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	rt := n.deploys[d.ID]
	switch {
	case rt == nil || rt.active == nil && rt.status != wire.ModelFailed:
		return deploymentHealth{Status: http.StatusServiceUnavailable, Error: "deployment is warming up its model"}
	case rt.active == nil:
		return deploymentHealth{Status: http.StatusServiceUnavailable, Error: "deployment failed to load its model: " + rt.reason}
	}
	return deploymentHealth{Healthy: true, Status: http.StatusOK, LatencyMs: float64(rt.latency.Load()) / float64(time.Millisecond)}
}

// nodeHealth is the body of GET /health.
type nodeHealth struct {
	Ready        bool   `json:"ready"`
	NodeID       string `json:"nodeId"`
	Region       string `json:"region"`
	ControlPlane string `json:"controlPlane"` // "reachable", "unreachable" or "unknown" before the first poll
	StateVersion uint64 `json:"stateVersion"`
	// StateAgeSeconds is how long ago the node received its fleet state,
	// -1 when it has none.
	StateAgeSeconds float64 `json:"stateAgeSeconds"`
	// Deployments maps each deployment placed on the node to its state:
	// warming, ready, failed or stopped.
	Deployments map[string]string `json:"deployments"`
}

// serveNodeHealth returns 200 when every running deployment placed on the
// node is warm, and 503 otherwise, so that load balancers route around a
// node that is still warming.
func (n *Node) serveNodeHealth(ctx *fasthttp.RequestCtx) {
	if !ctx.IsGet() && !ctx.IsHead() {
		n.rejectMethod(ctx, http.MethodGet)
		return
	}
	h := n.nodeHealth()
	status := http.StatusOK
	if !h.Ready {
		status = http.StatusServiceUnavailable
	}
	writeJSON(ctx, status, h)
}

func (n *Node) nodeHealth() nodeHealth {
	h := nodeHealth{
		NodeID:          n.cfg.NodeID,
		Region:          n.cfg.Region,
		ControlPlane:    n.controlPlaneStatus(),
		StateAgeSeconds: -1,
		Deployments:     make(map[string]string),
	}
	v := n.view.Load()
	if v == nil {
		return h
	}
	h.StateVersion = v.state.Version
	h.StateAgeSeconds = time.Since(v.receivedAt).Seconds()
	h.Ready = true
	n.mu.RLock()
	defer n.mu.RUnlock()
	for i := range v.state.Deployments {
		d := &v.state.Deployments[i]
		if _, ok := v.placed(d.ID, n.cfg.NodeID); !ok {
			continue
		}
		status := wire.ModelWarming
		if rt := n.deploys[d.ID]; rt != nil {
			status = rt.status
		}
		if d.Desired != wire.DesiredRunning {
			status = statusStopped
		}
		h.Deployments[d.ID] = status
		if status != statusStopped && status != wire.ModelReady {
			h.Ready = false
		}
	}
	return h
}

func (n *Node) controlPlaneStatus() string {
	switch {
	case n.cpUnreachable.Load():
		return "unreachable"
	case n.lastContact.Load() == 0:
		return "unknown"
	}
	return "reachable"
}

// serveStats returns the DeploymentStats of one deployment to the control
// plane.
func (n *Node) serveStats(ctx *fasthttp.RequestCtx, id string) {
	if !checkSecret(ctx, n.cfg.Secret) {
		n.reject(ctx, apierr.New(http.StatusForbidden, apierr.CodeForbidden,
			"internal route: send the cluster secret in the %s header", wire.HeaderSecret))
		return
	}
	if !ctx.IsGet() {
		n.rejectMethod(ctx, http.MethodGet)
		return
	}
	n.statsMu.Lock()
	s := n.stats[id]
	n.statsMu.Unlock()
	if s == nil {
		v := n.view.Load()
		if v == nil {
			n.reject(ctx, deploymentNotFound(id))
			return
		}
		if _, ok := v.placed(id, n.cfg.NodeID); !ok {
			n.reject(ctx, deploymentNotFound(id))
			return
		}
		s = n.statsFor(id)
	}
	writeJSON(ctx, http.StatusOK, s.snapshot(id, n.cfg.NodeID))
}

// serveMetrics writes the node's metrics in the Prometheus text format.
func (n *Node) serveMetrics(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("text/plain; version=0.0.4; charset=utf-8")
	n.recorder.WritePrometheus(ctx)
}
