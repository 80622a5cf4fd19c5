package fleet

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/controlplane/blob"
	"github.com/yoloplane/yoloplane/shared/apierr"
	"github.com/yoloplane/yoloplane/shared/httpserver"
	"github.com/yoloplane/yoloplane/shared/wire"
)

// maxFleetBody bounds heartbeat, usage and quota bodies. A heartbeat of a
// node with a thousand deployments is about 100 KB.
const maxFleetBody = 4 << 20

const fleetPrefix = "/internal/v1/fleet/"

// Wrap returns a handler that serves the internal fleet routes and passes
// every other request to next.
func (s *Service) Wrap(next fasthttp.RequestHandler) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		path := string(ctx.Path())
		if !strings.HasPrefix(path, fleetPrefix) {
			next(ctx)
			return
		}
		if !httpserver.SecretMatches(ctx, wire.HeaderSecret, s.cfg.Secret) {
			apierr.Write(ctx, apierr.New(fasthttp.StatusForbidden, apierr.CodeForbidden,
				"internal fleet route: send the cluster secret in %s", wire.HeaderSecret))
			return
		}
		if e := readFleetBody(ctx); e != nil {
			apierr.Write(ctx, e)
			return
		}
		s.route(ctx, path)
	}
}

// readFleetBody reads a streamed request body into the request, so that
// handlers can use PostBody, and rejects bodies over maxFleetBody.
func readFleetBody(ctx *fasthttp.RequestCtx) *apierr.Error {
	_, e := httpserver.ReadBody(ctx, maxFleetBody)
	return e
}

func (s *Service) route(ctx *fasthttp.RequestCtx, path string) {
	get, post := ctx.IsGet(), ctx.IsPost()
	switch {
	case path == wire.PathWatch && get:
		s.handleWatch(ctx)
	case path == wire.PathHeartbeat && post:
		s.handleHeartbeat(ctx)
	case strings.HasPrefix(path, wire.PathBlobs) && get:
		s.handleBlob(ctx, strings.TrimPrefix(path, wire.PathBlobs))
	case path == wire.PathUsage && post:
		s.handleUsage(ctx)
	case path == wire.PathQuota && post:
		s.handleQuota(ctx)
	default:
		apierr.Write(ctx, apierr.NotFound("no fleet route %s %s", ctx.Method(), path))
	}
}

func (s *Service) handleWatch(ctx *fasthttp.RequestCtx) {
	since, err := strconv.ParseUint(string(ctx.QueryArgs().Peek("since")), 10, 64)
	if err != nil && len(ctx.QueryArgs().Peek("since")) > 0 {
		apierr.Write(ctx, apierr.Validation("since %q must be a non-negative integer", ctx.QueryArgs().Peek("since")))
		return
	}
	// ctx ends when the server shuts down, so Shutdown does not wait out
	// a watch held for WatchWait.
	wait, cancel := context.WithTimeout(ctx, s.cfg.WatchWait)
	defer cancel()
	st, ok := s.Wait(wait, since)
	if !ok && ctx.Err() != nil {
		apierr.Write(ctx, apierr.New(fasthttp.StatusServiceUnavailable, apierr.CodeServiceUnavailable,
			"control plane is shutting down: watch another voter or retry"))
		ctx.Response.Header.Set("Retry-After", "1")
		ctx.SetConnectionClose()
		return
	}
	if !ok {
		ctx.SetStatusCode(fasthttp.StatusNotModified)
		return
	}
	writeJSON(ctx, inRegion(st, string(ctx.QueryArgs().Peek(wire.QueryRegion))))
}

// inRegion returns st with the deployments of region only, or st itself
// when region is empty. The version stays that of the whole state, so a
// node may move between regions or voters and resume from it.
func inRegion(st wire.FleetState, region string) wire.FleetState {
	if region == "" {
		return st
	}
	all := st.Deployments
	st.Deployments = make([]wire.Deployment, 0, len(all))
	for _, d := range all {
		if d.Region == region {
			st.Deployments = append(st.Deployments, d)
		}
	}
	return st
}

func (s *Service) handleHeartbeat(ctx *fasthttp.RequestCtx) {
	var hb wire.Heartbeat
	if err := json.Unmarshal(ctx.PostBody(), &hb); err != nil {
		apierr.Write(ctx, apierr.Validation("invalid heartbeat JSON: %v", err))
		return
	}
	if hb.NodeID == "" || len(hb.NodeID) > 256 || hb.HTTPAddr == "" || hb.Region == "" {
		apierr.Write(ctx, apierr.Validation("heartbeat needs nodeId (1 to 256 bytes), region and httpAddr"))
		return
	}
	s.Observe(hb)
	if len(ctx.Request.Header.Peek(headerRelayed)) == 0 {
		s.relay.enqueue(hb.NodeID, ctx.PostBody())
	}
	writeJSON(ctx, wire.HeartbeatReply{Version: s.Current().Version})
}

func (s *Service) handleBlob(ctx *fasthttp.RequestCtx, hash string) {
	if err := blob.ValidateHash(hash); err != nil {
		apierr.Write(ctx, apierr.Validation("blob hash %q must be 64 lowercase hex characters", hash))
		return
	}
	// A voter other than the one that received the upload fetches the
	// blob from its peers on first use.
	if err := s.blobs.Ensure(ctx, hash); err != nil {
		apierr.Write(ctx, apierr.NotFound("blob %s is not stored on this voter and no peer returned it: %v", hash, err))
		return
	}
	ctx.SetContentType("application/octet-stream")
	ctx.SendFile(s.blobs.Path(hash))
}

func (s *Service) handleUsage(ctx *fasthttp.RequestCtx) {
	var b wire.UsageBatch
	if err := json.Unmarshal(ctx.PostBody(), &b); err != nil {
		apierr.Write(ctx, apierr.Validation("invalid usage batch JSON: %v", err))
		return
	}
	s.AddUsage(b)
	writeJSON(ctx, map[string]bool{"ok": true})
}

func (s *Service) handleQuota(ctx *fasthttp.RequestCtx) {
	var req wire.QuotaRequest
	if err := json.Unmarshal(ctx.PostBody(), &req); err != nil {
		apierr.Write(ctx, apierr.Validation("invalid quota request JSON: %v", err))
		return
	}
	if req.KeyID == "" || req.Want <= 0 {
		apierr.Write(ctx, apierr.Validation("quota request needs keyId and a positive want, got %q and %d", req.KeyID, req.Want))
		return
	}
	grant, err := s.Lease(ctx, req)
	if err != nil {
		apierr.Write(ctx, apierr.New(fasthttp.StatusServiceUnavailable, apierr.CodeServiceUnavailable,
			"rate limiter unavailable: %v", err))
		ctx.Response.Header.Set("Retry-After", "1")
		return
	}
	writeJSON(ctx, grant)
}

// writeJSON sends v as a 200 JSON response.
func writeJSON(ctx *fasthttp.RequestCtx, v any) { httpserver.WriteJSON(ctx, fasthttp.StatusOK, v) }
