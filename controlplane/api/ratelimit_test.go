package api

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/controlplane/ratelimit"
	"github.com/yoloplane/yoloplane/controlplane/state"
	"github.com/yoloplane/yoloplane/shared/ids"
)

// leaderRaft is a Raft node that always leads and applies commands to the
// test's state machine.
type leaderRaft struct{ e *env }

func (leaderRaft) IsLeader() bool                    { return true }
func (leaderRaft) Barrier(ctx context.Context) error { return nil }
func (r leaderRaft) Apply(ctx context.Context, cmd state.Command) (any, error) {
	return r.e.apply(ctx, cmd)
}

// failingLimiter cannot reach a leader.
type failingLimiter struct{ calls atomic.Int64 }

func (f *failingLimiter) Allow(context.Context, string, state.Plan) (ratelimit.Decision, error) {
	f.calls.Add(1)
	return ratelimit.Decision{}, ratelimit.ErrUnavailable
}

// withLimiter reinstalls e's backend with l and rebuilds the handler.
func (e *env) withLimiter(l Limiter) {
	b := e.srv.backend
	b.Limiter = l
	e.srv.SetBackend(b)
	e.handler = e.srv.Handler()
}

func newLimitedEnv(t *testing.T, cfg ratelimit.Config) *env {
	t.Helper()
	e := newEnv(t)
	l, err := ratelimit.New(cfg, leaderRaft{e}, e.fsm)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	e.withLimiter(l)
	return e
}

func TestAuthRateLimitHeaders(t *testing.T) {
	e := newLimitedEnv(t, ratelimit.DefaultConfig())
	e.addUser("ann")
	tests := []struct {
		name, method, uri string
		wantStatus        int
		wantRemaining     string
	}{
		{"success", "GET", "/api/projects", 200, "59"},
		{"handler error", "GET", "/api/projects/" + ids.New(), 404, "58"},
		{"validation error", "POST", "/api/projects", 400, "57"},
	}
	for _, tt := range tests {
		r := e.do("ann", tt.method, tt.uri, "")
		if r.status != tt.wantStatus {
			t.Fatalf("%s: status %d, want %d: %s", tt.name, r.status, tt.wantStatus, r.body)
		}
		if got := string(r.header.Peek("X-RateLimit-Limit")); got != "60" {
			t.Errorf("%s: X-RateLimit-Limit = %q, want 60", tt.name, got)
		}
		if got := string(r.header.Peek("X-RateLimit-Remaining")); got != tt.wantRemaining {
			t.Errorf("%s: X-RateLimit-Remaining = %q, want %s", tt.name, got, tt.wantRemaining)
		}
		if _, err := strconv.ParseInt(string(r.header.Peek("X-RateLimit-Reset")), 10, 64); err != nil {
			t.Errorf("%s: X-RateLimit-Reset = %q, want Unix seconds", tt.name, r.header.Peek("X-RateLimit-Reset"))
		}
	}
	if r := e.do("", "GET", "/api/projects", ""); r.status != 401 || len(r.header.Peek("X-RateLimit-Limit")) != 0 {
		t.Errorf("unauthenticated request: status %d, X-RateLimit-Limit %q; want 401 without headers", r.status, r.header.Peek("X-RateLimit-Limit"))
	}
}

func TestAuthRateLimitRejects(t *testing.T) {
	e := newLimitedEnv(t, ratelimit.DefaultConfig())
	e.addUser("ann")
	for i := range 60 {
		if r := e.do("ann", "GET", "/api/projects", ""); r.status != 200 {
			t.Fatalf("request %d: status %d: %s", i+1, r.status, r.body)
		}
	}
	r := e.do("ann", "POST", "/api/projects", `{"slug":"late"}`)
	if r.status != fasthttp.StatusTooManyRequests {
		t.Fatalf("request 61: status %d, want 429: %s", r.status, r.body)
	}
	if got := string(r.header.Peek("Retry-After")); got != "60" {
		t.Errorf("Retry-After = %q, want 60", got)
	}
	if got := string(r.header.Peek("X-Error-Code")); got != "RATE_LIMITED" {
		t.Errorf("X-Error-Code = %q, want RATE_LIMITED", got)
	}
	if msg, _ := r.json(t)["error"].(string); msg == "" {
		t.Errorf("429 body %s has no error message", r.body)
	}
	if _, ok := e.fsm.ProjectBySlug(e.workspace("ann").ID, "late"); ok {
		t.Error("the rejected create ran its handler")
	}
}

func TestAuthRateLimitFailsOpen(t *testing.T) {
	e := newEnv(t)
	f := &failingLimiter{}
	e.withLimiter(f)
	e.addUser("ann")
	r := e.do("ann", "GET", "/api/projects", "")
	if r.status != 200 {
		t.Fatalf("status %d with the limiter unavailable, want 200: %s", r.status, r.body)
	}
	if f.calls.Load() != 1 {
		t.Errorf("limiter called %d times, want 1", f.calls.Load())
	}
	if got := r.header.Peek("X-RateLimit-Limit"); len(got) != 0 {
		t.Errorf("X-RateLimit-Limit = %q without a decision, want none", got)
	}
}

// BenchmarkAuthRateLimit measures the middleware per request: key format
// check, SHA-256, key and workspace lookups, the leader's Allow and the
// headers. The route does nothing.
func BenchmarkAuthRateLimit(b *testing.B) {
	e := newEnv(&testing.T{})
	cfg := ratelimit.DefaultConfig()
	cfg.Enterprise = ratelimit.Limits{} // no limit, so every request is allowed
	l, err := ratelimit.New(cfg, leaderRaft{e}, e.fsm)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	e.withLimiter(l)
	user := e.must(&state.CreateUser{UserID: ids.New(), WorkspaceID: ids.New(), Username: "ann",
		Plan: state.PlanEnterprise, CreatedAt: e.clock()}).(state.CreatedUser)
	e.users["ann"] = user.User.ID
	key := e.addKey("ann", user.Workspace.ID)
	h := e.srv.auth(func(*fasthttp.RequestCtx) {})
	var ctx fasthttp.RequestCtx
	ctx.Request.Header.Set("Authorization", "Bearer "+key)
	b.ReportAllocs()
	for b.Loop() {
		ctx.Response.Reset()
		h(&ctx)
	}
	if ctx.Response.StatusCode() != 200 || len(ctx.Response.Header.Peek("X-RateLimit-Limit")) == 0 {
		b.Fatalf("last request: status %d, headers %s", ctx.Response.StatusCode(), ctx.Response.Header.String())
	}
}
