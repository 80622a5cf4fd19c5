package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/controlplane/blob"
	"github.com/yoloplane/yoloplane/controlplane/state"
	"github.com/yoloplane/yoloplane/dataplane/predict"
	"github.com/yoloplane/yoloplane/internal/contract"
	"github.com/yoloplane/yoloplane/shared/ids"
)

// env is an API server over an in-memory state machine. Commands are
// applied directly, in order, as a single Raft voter would.
type env struct {
	t       testing.TB
	fsm     *state.FSM
	srv     *Server
	handler fasthttp.RequestHandler
	blobs   *blob.Store

	mu    sync.Mutex
	index uint64
	now   time.Time
	keys  map[string]string // username → API key
	users map[string]string // username → user ID
}

func newEnv(t testing.TB) *env {
	t.Helper()
	blobs, err := blob.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, fsm: state.New(), blobs: blobs, now: time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC),
		keys: map[string]string{}, users: map[string]string{}}
	e.srv = New(DefaultConfig(), e.fsm, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	e.srv.SetBackend(Backend{
		Apply:     e.apply,
		Blobs:     blobs,
		LoadModel: func(string) (*predict.Model, error) { return nil, fmt.Errorf("output layout [1 7] is not supported") },
		URLSecret: []byte("test-secret-test-secret-test-sec"),
		Now:       e.clock,
	})
	e.srv.SetReady()
	e.handler = e.srv.Handler()
	return e
}

func (e *env) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *env) advance(d time.Duration) {
	e.mu.Lock()
	e.now = e.now.Add(d)
	e.mu.Unlock()
}

func (e *env) apply(_ context.Context, cmd state.Command) (any, error) {
	data, err := state.Encode(cmd)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	e.index++
	idx := e.index
	e.mu.Unlock()
	resp := e.fsm.Apply(&raft.Log{Index: idx, Term: 1, Type: raft.LogCommand, Data: data})
	if err, ok := resp.(error); ok {
		return nil, err
	}
	return resp, nil
}

// must applies cmd and fails the test on an error.
func (e *env) must(cmd state.Command) any {
	e.t.Helper()
	v, err := e.apply(context.Background(), cmd)
	if err != nil {
		e.t.Fatalf("apply %T: %v", cmd, err)
	}
	return v
}

// addUser creates a user with a personal workspace and an API key in it.
func (e *env) addUser(name string) string {
	e.t.Helper()
	res := e.must(&state.CreateUser{UserID: ids.New(), WorkspaceID: ids.New(), Username: name, CreatedAt: e.clock()}).(state.CreatedUser)
	e.users[name] = res.User.ID
	e.keys[name] = e.addKey(name, res.Workspace.ID)
	return res.User.ID
}

func (e *env) addKey(user, workspaceID string) string {
	e.t.Helper()
	key := NewKey()
	e.must(&state.CreateAPIKey{KeyID: ids.New(), UserID: e.users[user], WorkspaceID: workspaceID, Name: "test",
		Hash: HashKey(key), Prefix: key[:7], CreatedAt: e.clock()})
	return key
}

func (e *env) workspace(slug string) state.Workspace {
	e.t.Helper()
	ws, ok := e.fsm.WorkspaceBySlug(slug)
	if !ok {
		e.t.Fatalf("workspace %s missing", slug)
	}
	return ws
}

// response is a finished request.
type response struct {
	status int
	body   []byte
	header *fasthttp.ResponseHeader
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("response %d is not a JSON object: %v: %s", r.status, err, r.body)
	}
	return v
}

// do sends a request as user (no Authorization header when user is "").
func (e *env) do(user, method, uri, body string) response {
	var req fasthttp.Request
	req.Header.SetMethod(method)
	req.SetRequestURI(uri)
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+e.keys[user])
	}
	if body != "" {
		req.Header.SetContentType("application/json")
		req.SetBodyString(body)
	}
	return e.send(&req)
}

func (e *env) send(req *fasthttp.Request) response {
	var ctx fasthttp.RequestCtx
	ctx.Init(req, nil, nil)
	e.handler(&ctx)
	var h fasthttp.ResponseHeader
	ctx.Response.Header.CopyTo(&h)
	return response{status: ctx.Response.StatusCode(), body: append([]byte(nil), ctx.Response.Body()...), header: &h}
}

// expand replaces {name} placeholders in s.
func expand(s string, vars map[string]string) string {
	for k, v := range vars {
		s = strings.ReplaceAll(s, "{"+k+"}", v)
	}
	return s
}

func (e *env) doMultipart(user, boundary, body string) response {
	var req fasthttp.Request
	req.Header.SetMethod("POST")
	req.SetRequestURI("/api/models")
	req.Header.Set("Authorization", "Bearer "+e.keys[user])
	req.Header.SetContentType("multipart/form-data; boundary=" + boundary)
	req.SetBodyString(body)
	return e.send(&req)
}

// checkError fails the test unless res has the status and a contract error
// body whose message contains hint.
func checkError(t *testing.T, name string, res response, status int, hint string) {
	t.Helper()
	if res.status != status {
		t.Errorf("%s: status %d, want %d: %s", name, res.status, status, res.body)
		return
	}
	var body map[string]string
	if err := json.Unmarshal(res.body, &body); err != nil || len(body) != 1 {
		t.Errorf("%s: body %s is not an error object", name, res.body)
		return
	}
	if !strings.Contains(body["error"], hint) {
		t.Errorf("%s: error %q does not mention %q", name, body["error"], hint)
	}
	if res.header.Peek("X-Error-Code") == nil {
		t.Errorf("%s: no X-Error-Code header", name)
	}
	contract.Validate(t, "ErrorResponse", res.body)
}

// teamEnv returns an env where ada is the admin of the team "acme".
func teamEnv(t *testing.T) *env {
	e := newEnv(t)
	e.addUser("ada")
	e.must(&state.CreateWorkspace{WorkspaceID: ids.New(), Slug: "acme", Name: "Acme", OwnerID: e.users["ada"], CreatedAt: e.clock()})
	return e
}
