package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/controlplane/blob"
	"github.com/yoloplane/yoloplane/controlplane/raftnode"
	"github.com/yoloplane/yoloplane/controlplane/ratelimit"
	"github.com/yoloplane/yoloplane/controlplane/state"
	"github.com/yoloplane/yoloplane/dataplane/predict"
	"github.com/yoloplane/yoloplane/shared/apierr"
	"github.com/yoloplane/yoloplane/shared/httpserver"
	"github.com/yoloplane/yoloplane/shared/ids"
)

// Backend holds the dependencies of the write routes besides the state machine.
type Backend struct {
	// Apply proposes a command and returns its result once applied, like
	// raftnode.Node.Apply. Handlers call it from request goroutines; it
	// blocks until the entry commits or ctx ends.
	Apply func(ctx context.Context, cmd state.Command) (any, error)
	// Blobs stores uploaded model files.
	Blobs *blob.Store
	// LoadModel opens and warms an ONNX file for predicts. It rejects files
	// whose inputs or output layout the predict pipeline cannot use.
	LoadModel func(path string) (*predict.Model, error)
	// URLSecret signs download URLs. It must stay the same across restarts
	// for issued URLs to keep working until they expire.
	URLSecret []byte
	// Limiter enforces the per-key plan rate limits on every authenticated
	// route. Nil turns the limits off.
	Limiter Limiter
	// ReadIndex waits until the local state contains every write committed
	// before the call, like cluster.Cluster.ReadIndex. Authentication calls
	// it from request goroutines when a key's hash is not found, so that a
	// key created through another node works here at once. Nil means the
	// local state is always current, as on a single voter.
	ReadIndex func(ctx context.Context) error
	// Now returns the current time; tests replace it.
	Now func() time.Time
}

// Limiter decides whether an API key may make another request. The auth
// middleware calls it from request goroutines after authentication; it may
// block while it waits on the Raft leader. ratelimit.Limiter implements it.
type Limiter interface {
	Allow(ctx context.Context, keyID string, plan state.Plan) (ratelimit.Decision, error)
}

// SetBackend installs the write dependencies. Call it before Handler.
func (s *Server) SetBackend(b Backend) {
	if b.Now == nil {
		b.Now = time.Now
	}
	s.backend = b
}

// applyTimeout bounds how long a write waits for its Raft commit.
const applyTimeout = 10 * time.Second

// maxJSONBody is the largest JSON request body of the resource routes.
const maxJSONBody = 1 << 20

func (s *Server) now() time.Time { return s.backend.Now().UTC() }

// apply proposes cmd and maps state errors to API errors: not found to 404,
// conflict to 409, gone to 410, invalid to 400. Other failures are logged
// and become 500.
func (s *Server) apply(cmd state.Command) (any, *apierr.Error) {
	if s.backend.Apply == nil {
		s.log.Error("BUG: write route called without a backend", "command", cmd.CommandType())
		return nil, apierr.Internal
	}
	ctx, cancel := context.WithTimeout(context.Background(), applyTimeout)
	defer cancel()
	v, err := s.backend.Apply(ctx, cmd)
	if err == nil {
		return v, nil
	}
	msg := stateMessage(err)
	switch {
	case errors.Is(err, state.ErrNotFound):
		return nil, apierr.NotFound("%s", msg)
	case errors.Is(err, state.ErrConflict):
		return nil, apierr.New(fasthttp.StatusConflict, apierr.CodeConflict, "%s", msg)
	case errors.Is(err, state.ErrGone):
		return nil, apierr.New(fasthttp.StatusGone, apierr.CodeGone, "%s", msg)
	case errors.Is(err, state.ErrInvalid):
		return nil, apierr.Validation("%s", msg)
	case errors.Is(err, raftnode.ErrNotLeader):
		s.log.Warn("write rejected: no raft leader is elected", "command", cmd.CommandType(), "error", err)
		return nil, apierr.New(fasthttp.StatusServiceUnavailable, apierr.CodeServiceUnavailable,
			"no control-plane leader is elected, so writes are refused: a majority of voters must be running and connected; retry later")
	case errors.Is(err, context.DeadlineExceeded):
		s.log.Warn("write timed out", "command", cmd.CommandType(), "error", err)
		return nil, apierr.New(fasthttp.StatusServiceUnavailable, apierr.CodeServiceUnavailable,
			"the write was not confirmed within %v and may or may not be applied: check the resource, then retry", applyTimeout)
	}
	s.log.Error("apply command failed", "command", cmd.CommandType(), "error", err)
	return nil, apierr.Internal
}

// stateMessage drops the sentinel prefix ("invalid: ") of a state error so
// that the client reads only the part that names the field and value.
func stateMessage(err error) string {
	msg := err.Error()
	for _, sentinel := range []error{state.ErrNotFound, state.ErrConflict, state.ErrGone, state.ErrInvalid} {
		msg = strings.TrimPrefix(msg, sentinel.Error()+": ")
	}
	return msg
}

// applyRecorded proposes cmd and its activity event in one Raft entry, so
// the write and its event commit together at the cost of one round trip.
// Without an authenticated caller it proposes cmd alone.
func (s *Server) applyRecorded(ctx *fasthttp.RequestCtx, cmd state.Command, workspaceID, action, resourceType, resourceID, message string) (any, *apierr.Error) {
	p := principal(ctx)
	if p == nil {
		return s.apply(cmd)
	}
	return s.apply(&state.WithEvent{Command: cmd, Event: state.Event{
		ID: ids.New(), WorkspaceID: workspaceID, UserID: p.User.ID, Action: action,
		ResourceType: resourceType, ResourceID: resourceID, Message: message, CreatedAt: s.now(),
	}})
}

// record stores an activity event for a mutation that already committed,
// for writes that span several entries.
// A failure is logged and not returned, because the mutation itself
// succeeded.
func (s *Server) record(ctx *fasthttp.RequestCtx, workspaceID, action, resourceType, resourceID, message string) {
	p := principal(ctx)
	if p == nil {
		return
	}
	_, err := s.apply(&state.RecordEvent{Event: state.Event{
		ID: ids.New(), WorkspaceID: workspaceID, UserID: p.User.ID, Action: action,
		ResourceType: resourceType, ResourceID: resourceID, Message: message, CreatedAt: s.now(),
	}})
	if err != nil {
		s.log.Error("record activity failed", "workspace_id", workspaceID, "action", action,
			"resource_id", resourceID, "error", err.Message)
	}
}

// readJSON decodes a JSON object request body into v, a pointer to a
// struct. Unknown fields are ignored, because the contract lets clients
// send fields this server does not store. An empty body leaves v unchanged
// when optional. Errors name the field and the JSON type to send, never a
// Go type.
func readJSON(ctx *fasthttp.RequestCtx, v any, optional bool) *apierr.Error {
	// The type is checked before the body is read, so that a large upload
	// sent to the wrong route gets this error rather than a 413. A request
	// without a body has no format to check.
	if ctx.Request.IsBodyStream() || len(ctx.PostBody()) > 0 {
		if e := checkJSONContentType(ctx); e != nil {
			return e
		}
	}
	body, e := requestBody(ctx, maxJSONBody)
	if e != nil {
		return e
	}
	body = bytes.TrimLeft(body, " \t\r\n")
	if len(body) == 0 {
		if optional {
			return nil
		}
		return apierr.Validation("request body is missing: send a JSON object")
	}
	if kind := jsonValueKind(body); kind != "" && kind != "an object" {
		return apierr.Validation("request body must be a JSON object, got %s", kind)
	}
	// encoding/json would turn invalid UTF-8 into U+FFFD and keep a NUL,
	// and either would end up in stored names.
	if !utf8.Valid(body) {
		return apierr.Validation("request body is not valid UTF-8: send the JSON object in UTF-8")
	}
	if bytes.Contains(bytes.ToLower(body), []byte(`\u0000`)) {
		return apierr.Validation(`request body contains a NUL character (\u0000): remove it from the text fields`)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return jsonDecodeError(err, v)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return apierr.Validation("request body has extra data after the JSON object: send exactly one JSON object")
	}
	return nil
}

// requestBody returns the whole body, at most limit bytes.
func requestBody(ctx *fasthttp.RequestCtx, limit int64) ([]byte, *apierr.Error) {
	return httpserver.ReadBody(ctx, limit)
}

// splitPath returns the segments of a catch-all route parameter.
func splitPath(ctx *fasthttp.RequestCtx) []string {
	path, _ := ctx.UserValue("path").(string)
	path = strings.Trim(path, "/")
	if path == "" {
		return nil
	}
	return strings.Split(path, "/")
}
