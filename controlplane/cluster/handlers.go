package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/controlplane/raftnode"
	"github.com/yoloplane/yoloplane/controlplane/ratelimit"
	"github.com/yoloplane/yoloplane/controlplane/state"
	"github.com/yoloplane/yoloplane/shared/apierr"
	"github.com/yoloplane/yoloplane/shared/httpserver"
)

// maxInternalBody bounds the body of an internal call. The largest is a
// forwarded model record with full metadata, about 4 MiB.
const maxInternalBody = 16 << 20

const adminVotersPath = "/api/admin/cluster/voters"

// applyTimeout bounds how long the leader waits for a forwarded command to
// commit.
const applyTimeout = 10 * time.Second

// Wrap returns a handler that serves /health, the internal routes and the
// admin voter routes, and passes every other request to next.
func (c *Cluster) Wrap(next fasthttp.RequestHandler) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		path := string(ctx.Path())
		switch {
		case path == "/health":
			c.handleHealth(ctx)
		case strings.HasPrefix(path, "/internal/"):
			c.routeInternal(ctx, path)
		case path == adminVotersPath || strings.HasPrefix(path, adminVotersPath+"/"):
			c.routeAdmin(ctx, strings.TrimPrefix(path, adminVotersPath))
		default:
			next(ctx)
		}
	}
}

func (c *Cluster) handleHealth(ctx *fasthttp.RequestCtx) {
	leaderID, _ := c.node.Leader()
	role := "follower"
	if c.node.IsLeader() {
		role = "leader"
	}
	status, ready, code := "ok", c.ready.Load(), fasthttp.StatusOK
	switch {
	case !ready:
		status, code = "starting", fasthttp.StatusServiceUnavailable
	case leaderID == "":
		// Without a leader no write succeeds, which is what a majority
		// of voters down or cut off looks like from here.
		status, code = "no_leader", fasthttp.StatusServiceUnavailable
	}
	httpserver.WriteJSON(ctx, code, map[string]any{"status": status, "ready": ready, "nodeId": c.node.ID(), "role": role, "leader": leaderID})
}

func (c *Cluster) routeInternal(ctx *fasthttp.RequestCtx, path string) {
	if !secretMatches(ctx, c.cfg.Secret) {
		msg := "internal cluster route: send the cluster secret in " + HeaderSecret
		if len(ctx.Request.Header.Peek(HeaderSecret)) > 0 {
			msg = "the cluster secret does not match this cluster's: use the content of cluster.secret in the first voter's data directory"
		}
		apierr.Write(ctx, apierr.New(http.StatusForbidden, apierr.CodeForbidden, "%s", msg))
		return
	}
	if !ctx.IsPost() {
		apierr.Write(ctx, apierr.New(http.StatusMethodNotAllowed, apierr.CodeBadRequest, "internal routes take POST"))
		return
	}
	// Reading the body here keeps it in the request, so the handlers below
	// can use PostBody on a body the server streamed.
	if _, e := httpserver.ReadBody(ctx, maxInternalBody); e != nil {
		apierr.Write(ctx, e)
		return
	}
	switch path {
	case pathApply:
		c.handleApply(ctx)
	case pathReadIndex:
		c.handleReadIndex(ctx)
	case pathRateLimit:
		c.handleRateLimit(ctx)
	case pathJoin:
		c.handleJoin(ctx)
	case pathRemove:
		c.handleRemove(ctx)
	case pathBlob:
		c.handleBlob(ctx)
	default:
		apierr.Write(ctx, apierr.NotFound("no internal route %s", path))
	}
}

// handleApply applies a forwarded command on the leader. A node that does
// not lead replies kindNotLeader instead of forwarding again, so that a
// command never travels in a loop.
func (c *Cluster) handleApply(ctx *fasthttp.RequestCtx) {
	// Unknown command types and malformed bodies are rejected before they
	// reach the log. The entry proposed is the follower's bytes.
	if err := state.CheckEntry(ctx.PostBody()); err != nil {
		writeJSON(ctx, applyResponse{Kind: kindInvalid, Error: err.Error()})
		return
	}
	if !c.node.IsLeader() {
		writeJSON(ctx, applyResponse{Kind: kindNotLeader, Error: "not the raft leader"})
		return
	}
	actx, cancel := context.WithTimeout(context.Background(), applyTimeout)
	defer cancel()
	// fasthttp reuses the body buffer after the handler returns, and raft
	// keeps the entry, so it gets a copy.
	entry := append([]byte(nil), ctx.PostBody()...)
	v, index, err := c.node.ApplyEntry(actx, entry)
	switch {
	case errors.Is(err, raftnode.ErrNotLeader):
		writeJSON(ctx, applyResponse{Kind: kindNotLeader, Error: err.Error()})
	case err != nil:
		writeJSON(ctx, applyResponse{Kind: errorKind(err), Error: err.Error()})
	default:
		c.notifyCaller(ctx, index)
		c.writeResult(ctx, v, index)
	}
}

// notifyCaller sends the voter that made an internal call the commit index
// of the entry at index, so it need not wait for raft's next AppendEntries
// before it can read the entry from its own state.
func (c *Cluster) notifyCaller(ctx *fasthttp.RequestCtx, index uint64) {
	c.node.NotifyCommitted(string(ctx.Request.Header.Peek(headerNodeID)), string(ctx.Request.Header.Peek(headerRaftAddr)), index)
}

// writeResult replies with v and the index of the entry that produced it.
// The follower waits for that index rather than the leader's applied
// index, which may be further on and would make it wait for later entries.
func (c *Cluster) writeResult(ctx *fasthttp.RequestCtx, v any, index uint64) {
	result, err := json.Marshal(v)
	if err != nil {
		writeJSON(ctx, applyResponse{Kind: kindOther, Error: fmt.Sprintf("encode result: %v", err)})
		return
	}
	writeJSON(ctx, applyResponse{Index: index, Result: result})
}

func (c *Cluster) handleReadIndex(ctx *fasthttp.RequestCtx) {
	rctx, cancel := context.WithTimeout(context.Background(), c.cfg.Timeout)
	defer cancel()
	if err := c.node.VerifyLeader(rctx); err != nil {
		writeJSON(ctx, applyResponse{Kind: kindNotLeader, Error: err.Error()})
		return
	}
	index := c.fsm.AppliedIndex()
	c.notifyCaller(ctx, index)
	writeJSON(ctx, applyResponse{Index: index})
}

func (c *Cluster) handleRateLimit(ctx *fasthttp.RequestCtx) {
	if c.limiter == nil {
		apierr.Write(ctx, apierr.New(http.StatusServiceUnavailable, apierr.CodeServiceUnavailable, "rate limiter is not running on this node"))
		return
	}
	var reqs []ratelimit.Request
	if err := json.Unmarshal(ctx.PostBody(), &reqs); err != nil {
		apierr.Write(ctx, apierr.Validation("invalid rate limit batch: %v", err))
		return
	}
	ds, err := c.limiter.AllowBatch(ctx, reqs)
	if err != nil {
		apierr.Write(ctx, apierr.New(http.StatusServiceUnavailable, apierr.CodeServiceUnavailable, "%v", err))
		return
	}
	writeJSON(ctx, ds)
}

// writeJSON sends v as a 200 JSON response.
func writeJSON(ctx *fasthttp.RequestCtx, v any) { httpserver.WriteJSON(ctx, fasthttp.StatusOK, v) }
