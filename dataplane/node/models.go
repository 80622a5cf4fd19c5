package node

import (
	"net/http"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/dataplane/predictapi"
	"github.com/yoloplane/yoloplane/shared/apierr"
	"github.com/yoloplane/yoloplane/shared/wire"
)

// routeModel serves the model routes the control plane forwards to:
// rest is "{sha256}/predict" or "{sha256}/warmup".
func (n *Node) routeModel(ctx *fasthttp.RequestCtx, rest string) {
	if !checkSecret(ctx, n.cfg.Secret) {
		n.reject(ctx, apierr.New(http.StatusForbidden, apierr.CodeForbidden,
			"internal node route: send the cluster secret in %s", wire.HeaderSecret))
		return
	}
	sha, action, _ := strings.Cut(rest, "/")
	if !ctx.IsPost() {
		n.rejectMethod(ctx, http.MethodPost)
		return
	}
	s := n.acquireModel(sha)
	if s == nil {
		n.reject(ctx, apierr.New(http.StatusServiceUnavailable, apierr.CodeServiceUnavailable,
			"no warm session of model file %s on this node", sha))
		ctx.Response.Header.Set("Retry-After", "1")
		return
	}
	defer s.release()
	switch action {
	case "predict":
		n.serveModelPredict(ctx, s)
	case "warmup":
		writeJSON(ctx, http.StatusOK, map[string]any{"success": true, "nodeId": n.cfg.NodeID,
			"warmupMs": float64(s.warmup.Microseconds()) / 1000})
	default:
		n.reject(ctx, apierr.NotFound("no route for %s %s on this data-plane node", ctx.Method(), ctx.Path()))
	}
}

// serveModelPredict runs a forwarded model predict on a session that a
// deployment of the same model file holds. The usage is the control
// plane's to count, so only the predict metrics record it here.
func (n *Node) serveModelPredict(ctx *fasthttp.RequestCtx, s *session) {
	n.inflight.Add(1)
	defer n.inflight.Add(-1)
	shape := predictapi.ShapeSeed
	if string(ctx.Request.Header.Peek(wire.HeaderPredictShape)) == wire.PredictShapeContract {
		shape = predictapi.ShapeContract
	}
	t := predictapi.Target{
		ID:    string(ctx.Request.Header.Peek(wire.HeaderModelID)),
		Name:  string(ctx.Request.Header.Peek(wire.HeaderModelName)),
		Model: s.model,
	}
	n.handler.Serve(ctx, t, shape)
}

// acquireModel returns a ready session of the model file with the given
// SHA-256 with a reference taken, or nil when no deployment on this node
// holds one.
func (n *Node) acquireModel(sha string) *session {
	if sha == "" {
		return nil
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	for _, rt := range n.deploys {
		s := rt.active
		if s != nil && s.ref.SHA256 == sha && s.acquire() {
			return s
		}
	}
	return nil
}
