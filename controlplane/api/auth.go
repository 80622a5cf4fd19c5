package api

import (
	"context"
	"crypto/subtle"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/controlplane/ratelimit"
	"github.com/yoloplane/yoloplane/controlplane/state"
	"github.com/yoloplane/yoloplane/shared/apierr"
	"github.com/yoloplane/yoloplane/shared/apikey"
)

// KeyPrefix starts every API key; 40 hex characters follow it.
const KeyPrefix = apikey.Prefix

// errStarting is the response to authenticated requests that arrive before
// the server is ready.
var errStarting = apierr.New(fasthttp.StatusServiceUnavailable, apierr.CodeServiceUnavailable,
	"the server is starting and its state is catching up: retry in a second")

// principalKey is the user-value key under which auth stores the caller.
const principalKey = "yoloplane.principal"

// Principal is the authenticated caller of a request.
type Principal struct {
	Key  state.APIKey
	User state.User
}

// HashKey returns the stored form of an API key: lowercase hex SHA-256.
func HashKey(key string) string { return apikey.Hash(key) }

// ValidKeyFormat reports whether key is "ul_" followed by 40 hex characters.
func ValidKeyFormat(key []byte) bool { return apikey.ValidFormat(key) }

// auth wraps h so that it runs only for requests with a valid, unrevoked
// API key, or a predict token on its model's predict route, in the
// Authorization header that the key's plan rate limits allow. Every
// response to an authenticated request, errors included, carries the
// X-RateLimit headers.
func (s *Server) auth(h fasthttp.RequestHandler) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		if !s.ready.Load() {
			// Until the state has caught up, a key created elsewhere may
			// be missing here, and a 401 would call a valid key revoked.
			writeStarting(ctx)
			return
		}
		p, err := s.authenticateCaller(ctx)
		if err != nil {
			apierr.Write(ctx, err)
			ctx.Response.Header.Set("WWW-Authenticate", `Bearer realm="yoloplane"`)
			return
		}
		ctx.SetUserValue(principalKey, p)
		d, limited := s.allow(ctx, p)
		if !limited {
			h(ctx)
			return
		}
		if !d.Allowed {
			ratelimit.Reject(ctx, d)
			return
		}
		h(ctx)
		// After h, because apierr.Write resets the response.
		ratelimit.WriteHeaders(&ctx.Response.Header, d)
	}
}

// authOptional wraps h like auth when the request has an Authorization
// header. Without one, h runs with no principal once the server is ready,
// for routes that a token in the request authorizes instead.
func (s *Server) authOptional(h fasthttp.RequestHandler) fasthttp.RequestHandler {
	withKey := s.auth(h)
	withoutKey := s.whenReady(h)
	return func(ctx *fasthttp.RequestCtx) {
		if len(ctx.Request.Header.Peek(fasthttp.HeaderAuthorization)) > 0 {
			withKey(ctx)
			return
		}
		withoutKey(ctx)
	}
}

// whenReady wraps a route without an API key that reads replicated state,
// so that it gets 503 until the state has caught up instead of a 404 for a
// record created elsewhere.
func (s *Server) whenReady(h fasthttp.RequestHandler) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		if !s.ready.Load() {
			writeStarting(ctx)
			return
		}
		h(ctx)
	}
}

func writeStarting(ctx *fasthttp.RequestCtx) {
	apierr.Write(ctx, errStarting)
	ctx.Response.Header.Set("Retry-After", "1")
}

// allow counts the request against the limits of the key's workspace plan.
// limited is false when no limiter is installed or it could not decide:
// a request then goes through without headers, because rejecting every
// request while a leader is elected would turn a short failover into an
// outage.
func (s *Server) allow(ctx *fasthttp.RequestCtx, p *Principal) (d ratelimit.Decision, limited bool) {
	l := s.backend.Limiter
	if l == nil {
		return d, false
	}
	ws, _ := s.fsm.WorkspaceByID(p.Key.WorkspaceID)
	d, err := l.Allow(ctx, p.Key.ID, ws.Plan)
	if err != nil {
		// TODO: count these fail-open requests in a metric, so that an
		// operator sees when limits are not enforced.
		return d, false
	}
	return d, true
}

func (s *Server) authenticate(ctx *fasthttp.RequestCtx) (*Principal, *apierr.Error) {
	hash, e := apikey.FromHeader(ctx.Request.Header.Peek(fasthttp.HeaderAuthorization))
	if e != nil {
		return nil, e
	}
	key, found := s.lookupKey(hash)
	// The map lookup finds the candidate; the constant-time comparison
	// keeps the final check independent of where the hashes differ.
	if !found || subtle.ConstantTimeCompare([]byte(key.Hash), []byte(hash)) != 1 || key.Revoked {
		return nil, apikey.ErrUnknown
	}
	user, ok := s.fsm.UserByID(key.UserID)
	if !ok {
		return nil, apierr.Unauthorized("the user of this API key no longer exists")
	}
	return &Principal{Key: key, User: user}, nil
}

// readIndexTimeout bounds the wait for the leader when a key's hash is not
// found locally. After it, the request gets 401 as if the key did not exist.
const readIndexTimeout = 2 * time.Second

// lookupKey finds the API key with the given hash. On a miss it waits for
// the local state to catch up with the leader and looks again, because a
// follower may not yet have applied the write that created the key.
//
// NOTE: every request with a well-formed unknown key costs one round trip
// to the leader; nothing coalesces them.
func (s *Server) lookupKey(hash string) (state.APIKey, bool) {
	key, found := s.fsm.KeyByHash(hash)
	if found || !s.catchUp("API key") {
		return key, found
	}
	return s.fsm.KeyByHash(hash)
}

// catchUp waits until the local state contains every write committed
// before the call, after a lookup (such as "API key") missed.
// It returns false when there is nothing to wait for, as on a single
// voter, or the wait failed, so that looking again is pointless.
func (s *Server) catchUp(lookup string) bool {
	if s.backend.ReadIndex == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), readIndexTimeout)
	defer cancel()
	if err := s.backend.ReadIndex(ctx); err != nil {
		s.log.Warn("read index after a lookup miss failed", "lookup", lookup, "error", err)
		return false
	}
	return true
}

func principal(ctx *fasthttp.RequestCtx) *Principal {
	p, _ := ctx.UserValue(principalKey).(*Principal)
	return p
}
