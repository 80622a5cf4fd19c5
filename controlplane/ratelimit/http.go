package ratelimit

import (
	"net/http"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/shared/apierr"
)

// Header names, in canonical form so that setting them does not allocate.
var (
	headerLimit      = []byte("X-Ratelimit-Limit")
	headerRemaining  = []byte("X-Ratelimit-Remaining")
	headerReset      = []byte("X-Ratelimit-Reset")
	headerRetryAfter = []byte("Retry-After")
)

// WriteHeaders sets X-RateLimit-Limit, X-RateLimit-Remaining,
// X-RateLimit-Reset (Unix seconds) and, for a rejected request,
// Retry-After (whole seconds) on h. It does not allocate.
func WriteHeaders(h *fasthttp.ResponseHeader, d Decision) {
	var buf [20]byte
	h.SetCanonical(headerLimit, fasthttp.AppendUint(buf[:0], int(d.Limit)))
	h.SetCanonical(headerRemaining, fasthttp.AppendUint(buf[:0], int(max(d.Remaining, 0))))
	h.SetCanonical(headerReset, fasthttp.AppendUint(buf[:0], int(d.Reset.Unix())))
	if !d.Allowed {
		h.SetCanonical(headerRetryAfter, fasthttp.AppendUint(buf[:0], int(d.RetryAfter.Seconds())))
	}
}

// Reject writes the 429 response for a rejected decision.
func Reject(ctx *fasthttp.RequestCtx, d Decision) {
	apierr.Write(ctx, apierr.New(http.StatusTooManyRequests, apierr.CodeRateLimited,
		"rate limit exceeded: %d requests allowed in this window; retry after %d seconds or upgrade the plan",
		d.Limit, int(d.RetryAfter.Seconds())))
	WriteHeaders(&ctx.Response.Header, d)
}
