package node

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/dataplane/accounting"
	"github.com/yoloplane/yoloplane/dataplane/predictapi"
	"github.com/yoloplane/yoloplane/shared/apierr"
	"github.com/yoloplane/yoloplane/shared/httpserver"
	"github.com/yoloplane/yoloplane/shared/wire"
)

const deploymentsPrefix = "/api/deployments/"

// handle routes every request of the public listener.
func (n *Node) handle(ctx *fasthttp.RequestCtx) {
	path := string(ctx.Path())
	switch {
	case path == "/health":
		n.serveNodeHealth(ctx)
	case path == "/metrics":
		n.serveMetrics(ctx)
	case strings.HasPrefix(path, wire.NodePathDeploymentStats):
		n.serveStats(ctx, strings.TrimPrefix(path, wire.NodePathDeploymentStats))
	case strings.HasPrefix(path, wire.NodePathModels):
		n.routeModel(ctx, strings.TrimPrefix(path, wire.NodePathModels))
	case strings.HasPrefix(path, wire.NodePathDeploymentPredict):
		n.serveForwardedPredict(ctx, strings.TrimPrefix(path, wire.NodePathDeploymentPredict))
	case strings.HasPrefix(path, deploymentsPrefix):
		n.routeDeployment(ctx, strings.TrimPrefix(path, deploymentsPrefix))
	default:
		n.reject(ctx, apierr.NotFound("no route for %s %s on this data-plane node", ctx.Method(), path))
	}
}

func (n *Node) routeDeployment(ctx *fasthttp.RequestCtx, rest string) {
	id, action, _ := strings.Cut(rest, "/")
	switch action {
	case "predict":
		if !ctx.IsPost() {
			n.rejectMethod(ctx, http.MethodPost)
			return
		}
		n.servePredict(ctx, id)
	case "health":
		if !ctx.IsGet() {
			n.rejectMethod(ctx, http.MethodGet)
			return
		}
		n.serveDeploymentHealth(ctx, id)
	default:
		n.reject(ctx, apierr.NotFound("no route for %s %s on this data-plane node: it serves POST %s{id}/predict and GET %s{id}/health",
			ctx.Method(), ctx.Path(), deploymentsPrefix, deploymentsPrefix))
	}
}

// reject writes e after reading what is left of a streamed body, bounded,
// so the client sees the response instead of a connection reset.
func (n *Node) reject(ctx *fasthttp.RequestCtx, e *apierr.Error) {
	if stream := ctx.RequestBodyStream(); stream != nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(stream, n.cfg.MaxBody))
	}
	apierr.Write(ctx, e)
}

func (n *Node) rejectMethod(ctx *fasthttp.RequestCtx, allow string) {
	n.reject(ctx, apierr.New(http.StatusMethodNotAllowed, apierr.CodeBadRequest,
		"method %s not allowed on %s: use %s", ctx.Method(), ctx.Path(), allow))
	ctx.Response.Header.Set("Allow", allow)
}

// predictOutcome is the accounting record of one predict request.
type predictOutcome struct {
	keyID    string
	admitted bool // passed the rate limit and reached the pipeline
	handled  bool // predictapi.Handler served it and recorded its metrics
}

func (n *Node) servePredict(ctx *fasthttp.RequestCtx, id string) {
	n.inflight.Add(1)
	defer n.inflight.Add(-1)
	v := n.view.Load()
	var d *wire.Deployment
	if v != nil {
		d, _ = v.placed(id, n.cfg.NodeID)
	}
	out := n.predict(ctx, v, d, id)
	// Only deployments placed here are accounted: an ID from the path
	// would let any client add metric series.
	if d != nil {
		n.account(ctx, d.ID, out)
	}
}

func (n *Node) predict(ctx *fasthttp.RequestCtx, v *view, d *wire.Deployment, id string) predictOutcome {
	key, aerr := authenticate(ctx, v)
	if aerr != nil {
		n.reject(ctx, aerr)
		ctx.Response.Header.Set("WWW-Authenticate", `Bearer realm="yoloplane"`)
		return predictOutcome{}
	}
	if d == nil || !canRead(key, d) {
		n.reject(ctx, deploymentNotFound(id))
		return predictOutcome{}
	}
	return n.runPredict(ctx, d, key, key.KeyID)
}

// serveForwardedPredict serves a deployment predict that the control plane
// forwarded after it authenticated, authorized and rate limited the
// caller, whose key ID it sends in wire.HeaderKeyID.
func (n *Node) serveForwardedPredict(ctx *fasthttp.RequestCtx, id string) {
	if !checkSecret(ctx, n.cfg.Secret) {
		n.reject(ctx, apierr.New(http.StatusForbidden, apierr.CodeForbidden,
			"internal node route: send the cluster secret in %s", wire.HeaderSecret))
		return
	}
	if !ctx.IsPost() {
		n.rejectMethod(ctx, http.MethodPost)
		return
	}
	n.inflight.Add(1)
	defer n.inflight.Add(-1)
	var d *wire.Deployment
	if v := n.view.Load(); v != nil {
		d, _ = v.placed(id, n.cfg.NodeID)
	}
	if d == nil {
		n.reject(ctx, deploymentNotFound(id))
		return
	}
	out := n.runPredict(ctx, d, nil, string(ctx.Request.Header.Peek(wire.HeaderKeyID)))
	n.account(ctx, d.ID, out)
}

// runPredict serves a predict of d for the API key keyID. key is nil for
// a predict the control plane forwarded: the control plane counted it
// against the key's rate limit, so the node takes no quota for it.
func (n *Node) runPredict(ctx *fasthttp.RequestCtx, d *wire.Deployment, key *wire.Key, keyID string) (out predictOutcome) {
	out.keyID = keyID
	if d.Desired != wire.DesiredRunning {
		n.reject(ctx, apierr.New(http.StatusConflict, apierr.CodeConflict,
			"deployment %q is stopped: start it with POST /api/deployments/%s/start, then retry", d.ID, d.ID))
		return out
	}
	s, aerr := n.acquireSession(d)
	if aerr != nil {
		n.reject(ctx, aerr)
		ctx.Response.Header.Set("Retry-After", "5")
		return out
	}
	defer s.release()

	var q quotaDecision
	if key != nil {
		q = n.takeQuota(ctx, key)
		if !q.allowed {
			n.reject(ctx, apierr.New(http.StatusTooManyRequests, apierr.CodeRateLimited,
				"rate limit of API key %s reached: retry after %d seconds or upgrade the plan", key.KeyID, q.retryAfter))
			q.setHeaders(&ctx.Response.Header)
			return out
		}
	}
	out.admitted = true
	shape := predictapi.ShapeSeed
	if string(ctx.Request.Header.Peek(wire.HeaderPredictShape)) == wire.PredictShapeContract {
		shape = predictapi.ShapeContract
	}
	n.handler.Serve(ctx, predictapi.Target{ID: d.ID, Name: d.Name, Model: s.model}, shape)
	out.handled = true
	if key != nil {
		q.setHeaders(&ctx.Response.Header)
	}
	return out
}

// acquireSession returns the deployment's serving session with a
// reference taken, or the 503 for a deployment without one.
func (n *Node) acquireSession(d *wire.Deployment) (*session, *apierr.Error) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	rt := n.deploys[d.ID]
	if rt != nil && rt.active != nil && rt.active.acquire() {
		return rt.active, nil
	}
	if rt != nil && rt.status == wire.ModelFailed {
		return nil, apierr.New(http.StatusServiceUnavailable, apierr.CodeServiceUnavailable,
			"deployment %q failed to load its model on this node: %s", d.ID, rt.reason)
	}
	return nil, apierr.New(http.StatusServiceUnavailable, apierr.CodeServiceUnavailable,
		"deployment %q is warming up its model: retry in a few seconds", d.ID)
}

// account records a finished predict in the deployment's stats, the
// metrics and the usage batch. Latency runs from when the server read the
// request headers, so it includes reading the body, waiting for a slot and
// writing nothing yet: fasthttp sends the response after the handler.
func (n *Node) account(ctx *fasthttp.RequestCtx, id string, out predictOutcome) {
	status := ctx.Response.StatusCode()
	latency := time.Since(ctx.Time())
	failed := status >= http.StatusBadRequest
	var message string
	if failed {
		message = errorMessage(ctx.Response.Body())
	}
	// The deployment's own metrics and logs, which its owner reads, count
	// only requests whose key was accepted for it, so that nobody without a
	// key can raise its error rate or fill its logs. The node's Prometheus
	// series below count every request, for the operator.
	if out.keyID != "" {
		n.statsFor(id).observe(time.Now(), string(ctx.Method()), string(ctx.Path()), status, latency, message)
	}
	n.metrics.GetOrCreatePrometheusHistogram(`yoloplane_deployment_request_duration_seconds{deployment="` + id + `"}`).Update(latency.Seconds())
	if !out.handled {
		n.recorder.Observe(id, status, &accounting.Timings{Total: latency})
	}
	if out.admitted {
		n.usage.add(id, out.keyID, failed)
	}
	if status == http.StatusOK {
		n.mu.RLock()
		if rt := n.deploys[id]; rt != nil {
			rt.latency.Store(int64(latency))
		}
		n.mu.RUnlock()
	}
}

func errorMessage(body []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	return e.Error
}

func (n *Node) statsFor(id string) *stats {
	n.statsMu.Lock()
	defer n.statsMu.Unlock()
	s := n.stats[id]
	if s == nil {
		s = newStats()
		n.stats[id] = s
	}
	return s
}

func writeJSON(ctx *fasthttp.RequestCtx, status int, v any) { httpserver.WriteJSON(ctx, status, v) }
