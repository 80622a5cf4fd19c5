package api

import (
	"context"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/controlplane/state"
	"github.com/yoloplane/yoloplane/dataplane/predictapi"
	"github.com/yoloplane/yoloplane/shared/apierr"
	"github.com/yoloplane/yoloplane/shared/wire"
)

// routeModelPredict runs a model predict on a data-plane node that holds
// the model file warm for a ready deployment, and in this process when no
// node does or none responds. The node returns the same body shape as a
// local predict, naming the model, not the deployment.
func (s *Server) routeModelPredict(ctx *fasthttp.RequestCtx, m state.Model, shape predictapi.Shape) {
	addrs := s.modelAddrs(m)
	if len(addrs) == 0 {
		s.servePredict(ctx, m, shape)
		return
	}
	body, e := requestBody(ctx, s.cfg.MaxBody)
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	req.Header.Set(wire.HeaderSecret, s.fleet.Secret())
	req.Header.Set(wire.HeaderModelID, m.ID)
	req.Header.Set(wire.HeaderModelName, m.Name)
	path := wire.NodePathModels + m.FileSHA256 + "/predict"
	if s.forwardPredict(ctx, req, body, addrs, path, shape == predictapi.ShapeContract) {
		return
	}
	// The body was read from the stream, so the local handler must find
	// it in the request.
	if ctx.Request.IsBodyStream() {
		ctx.Request.SetBody(body)
	}
	s.servePredict(ctx, m, shape)
}

// modelAddrs returns the nodes a predict of m may go to, or nil when the
// control plane runs without a fleet.
func (s *Server) modelAddrs(m state.Model) []string {
	if s.fleet == nil || m.FileSHA256 == "" || m.Status != state.ModelStatusReady {
		return nil
	}
	return s.fleet.ModelAddrs(m.FileSHA256)
}

// warmupModel serves POST /api/models/{modelId}/predict/warmup: it reports
// where the next predict of m will run and makes sure the model is warm
// there, loading it into this process when no node holds it.
func (s *Server) warmupModel(ctx *fasthttp.RequestCtx, m state.Model) {
	if m.Status != state.ModelStatusReady {
		apierr.Write(ctx, apierr.New(fasthttp.StatusConflict, apierr.CodeConflict,
			"model %s has status %s and cannot serve predictions until it is exported to ONNX", m.ID, m.Status))
		return
	}
	started := time.Now()
	if addr, ok := s.warmOnNode(m); ok {
		writeJSON(ctx, fasthttp.StatusOK, warmupReply(m, "node", addr, started))
		return
	}
	if e := s.loadLocal(ctx, m); e != nil {
		apierr.Write(ctx, e)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, warmupReply(m, "local", "", started))
}

func warmupReply(m state.Model, where, addr string, started time.Time) map[string]any {
	out := map[string]any{"success": true, "modelId": m.ID, "warm": true, "location": where,
		"durationMs": float64(time.Since(started).Microseconds()) / 1000}
	if addr != "" {
		out["nodeAddr"] = addr
	}
	return out
}

// warmOnNode queries the nodes that hold m whether its session is still warm
// and returns the first that confirms.
func (s *Server) warmOnNode(m state.Model) (string, bool) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.Header.SetMethod(fasthttp.MethodPost)
	for _, addr := range s.modelAddrs(m) {
		req.Header.Set(wire.HeaderSecret, s.fleet.Secret())
		req.SetRequestURI("http://" + addr + wire.NodePathModels + m.FileSHA256 + "/warmup")
		if err := nodeClient.DoTimeout(req, resp, 5*time.Second); err != nil {
			s.fleet.MarkSuspect(addr)
			continue
		}
		if resp.StatusCode() == fasthttp.StatusOK {
			return addr, true
		}
	}
	return "", false
}

// loadLocal loads m's file from the blob store into this process unless a
// session is already loaded. Two concurrent warm-ups may both load it; the
// second session is closed and the first kept.
func (s *Server) loadLocal(ctx context.Context, m state.Model) *apierr.Error {
	if s.loaded(m.ID) != nil {
		return nil
	}
	// A file uploaded through another voter is fetched from it first.
	if s.backend.LoadModel == nil || s.backend.Blobs == nil || m.FileSHA256 == "" || s.backend.Blobs.Ensure(ctx, m.FileSHA256) != nil {
		return apierr.New(fasthttp.StatusServiceUnavailable, apierr.CodeServiceUnavailable,
			"model %s cannot be loaded on this server and no data-plane node holds it: deploy it, then retry", m.ID)
	}
	loaded, err := s.backend.LoadModel(s.backend.Blobs.Path(m.FileSHA256))
	if err != nil {
		s.log.Error("warm up model failed", "model_id", m.ID, "sha256", m.FileSHA256, "error", err)
		return apierr.New(fasthttp.StatusUnprocessableEntity, apierr.CodeUnprocessable,
			"model %s failed to load: %v", m.ID, err)
	}
	s.mu.Lock()
	kept := s.models[m.ID] == nil
	if kept {
		s.models[m.ID] = loaded
	}
	s.mu.Unlock()
	if !kept {
		if err := loaded.Close(); err != nil {
			s.log.Error("close model session failed", "model_id", m.ID, "error", err)
		}
	}
	return nil
}
