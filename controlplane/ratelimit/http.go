package ratelimit

import (
	"net/http"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/controlplane/state"
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

// Wrap returns a handler that runs h only when the key allows another
// request, and sets the rate-limit headers on every response. key returns
// the caller's API key ID and plan; ok false (no authenticated caller)
// skips the limit. When the limiter is unavailable, the request goes
// through without headers, because blocking every request while a leader
// is elected would turn a short failover into an outage.
//
// The headers are set after h returns, because apierr.Write resets the
// response.
func (l *Limiter) Wrap(h fasthttp.RequestHandler, key func(*fasthttp.RequestCtx) (keyID string, plan state.Plan, ok bool)) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		keyID, plan, ok := key(ctx)
		if !ok {
			h(ctx)
			return
		}
		d, err := l.Allow(ctx, keyID, plan)
		if err != nil {
			// TODO: count these fail-open requests in a metric, so that an
			// operator sees when limits are not enforced.
			h(ctx)
			return
		}
		if !d.Allowed {
			Reject(ctx, d)
			return
		}
		h(ctx)
		WriteHeaders(&ctx.Response.Header, d)
	}
}
