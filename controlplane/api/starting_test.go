package api

import (
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/controlplane/state"
)

func TestAuthBeforeReadyIs503(t *testing.T) {
	srv := New(DefaultConfig(), state.New(), nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	var ctx fasthttp.RequestCtx
	ctx.Request.SetRequestURI("/api/projects")
	ctx.Request.Header.SetMethod(http.MethodGet)
	ctx.Request.Header.Set("Authorization", "Bearer ul_"+"0123456789012345678901234567890123456789")
	srv.Handler()(&ctx)
	if got := ctx.Response.StatusCode(); got != http.StatusServiceUnavailable {
		t.Errorf("status before ready = %d, want 503", got)
	}
	if ctx.Response.Header.Peek("Retry-After") == nil {
		t.Error("no Retry-After before ready")
	}
}
