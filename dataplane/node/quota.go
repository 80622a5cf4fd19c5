package node

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/shared/wire"
)

// lease is the part of a key's quota this node may spend without asking
// the control plane again. Its mu is held while a new lease is requested,
// so that concurrent predicts of one key send one quota request.
type lease struct {
	mu sync.Mutex
	// left is how many requests the node may still admit.
	left int
	// limit, remaining and reset are the last grant's, for the
	// X-RateLimit-* headers. remaining counts what the control plane still
	// holds, after this node's lease.
	limit     int
	remaining int
	reset     time.Time
	// deniedUntil is set by a grant of 0, whose Retry-After the node
	// honours locally instead of asking again for every request.
	deniedUntil time.Time
	// offline is set when a quota request failed: until then the node
	// admits the key's predicts without a lease.
	offlineUntil time.Time
}

// quotaDecision is the outcome of taking one request from a lease.
type quotaDecision struct {
	allowed    bool
	limit      int
	remaining  int
	reset      time.Time
	retryAfter int // seconds, when not allowed
}

// takeQuota spends one request of key's lease, asking the control plane
// for a new lease when it is used up.
func (n *Node) takeQuota(ctx context.Context, key *wire.Key) quotaDecision {
	n.leaseMu.Lock()
	l := n.leases[key.KeyID]
	if l == nil {
		l = &lease{}
		n.leases[key.KeyID] = l
	}
	n.leaseMu.Unlock()

	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if now.Before(l.deniedUntil) {
		return l.denied(now)
	}
	if l.left > 0 && now.Before(l.reset) {
		return l.spend()
	}
	if now.Before(l.offlineUntil) {
		return quotaDecision{allowed: true, limit: l.limit, remaining: l.remaining, reset: l.reset}
	}
	var grant wire.QuotaGrant
	req := wire.QuotaRequest{NodeID: n.cfg.NodeID, KeyID: key.KeyID, Plan: key.Plan, Want: n.cfg.QuotaBatch}
	if err := n.cp.postJSON(ctx, n.cfg.RequestTimeout, wire.PathQuota, req, &grant); err != nil {
		// NOTE: while the control plane is unreachable a key's predicts
		// are not rate limited, because the node cannot tell what its
		// peers admitted. Availability wins over exact limits here.
		l.offlineUntil = now.Add(n.cfg.OfflineLease)
		n.logQuotaFailure(key.KeyID, err)
		return quotaDecision{allowed: true, limit: l.limit, remaining: l.remaining, reset: l.reset}
	}
	l.limit, l.remaining, l.reset = grant.Limit, grant.Remaining, time.Unix(grant.ResetUnix, 0)
	if grant.Granted <= 0 {
		l.left = 0
		l.deniedUntil = now.Add(time.Duration(max(grant.RetryAfterSeconds, 1)) * time.Second)
		return l.denied(now)
	}
	l.left = grant.Granted
	return l.spend()
}

func (l *lease) spend() quotaDecision {
	l.left--
	return quotaDecision{allowed: true, limit: l.limit, remaining: l.remaining + l.left, reset: l.reset}
}

func (l *lease) denied(now time.Time) quotaDecision {
	retry := int((l.deniedUntil.Sub(now) + time.Second - 1) / time.Second)
	return quotaDecision{limit: l.limit, remaining: 0, reset: l.reset, retryAfter: max(retry, 1)}
}

// setHeaders writes the X-RateLimit-* headers, and Retry-After on a
// denial. It writes nothing before the key's first grant, whose limit the
// node does not know.
func (q quotaDecision) setHeaders(h *fasthttp.ResponseHeader) {
	if !q.allowed {
		h.Set("Retry-After", strconv.Itoa(q.retryAfter))
	}
	if q.limit <= 0 {
		return
	}
	h.Set("X-RateLimit-Limit", strconv.Itoa(q.limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(q.remaining, 0)))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(q.reset.Unix(), 10))
}

func (n *Node) logQuotaFailure(keyID string, err error) {
	if n.quotaLogLimit.allow() {
		n.log.Warn("quota request failed, admitting without a lease", "subsystem", "quota",
			"key_id", keyID, "offline_lease", n.cfg.OfflineLease, "error", err)
	}
}

// logLimiter lets one log line through per interval, so that a failure
// repeated on every request does not flood the log.
type logLimiter struct {
	mu       sync.Mutex
	interval time.Duration
	last     time.Time
}

func (l *logLimiter) allow() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if now.Sub(l.last) < l.interval {
		return false
	}
	l.last = now
	return true
}
