package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/controlplane/blob"
	"github.com/yoloplane/yoloplane/controlplane/raftnode"
	"github.com/yoloplane/yoloplane/controlplane/ratelimit"
	"github.com/yoloplane/yoloplane/controlplane/state"
	"github.com/yoloplane/yoloplane/shared/apierr"
	"github.com/yoloplane/yoloplane/shared/httpserver"
)

// HeaderSecret carries the cluster secret on internal routes.
const HeaderSecret = "X-Yoloplane-Cluster-Secret"

// Headers that name the voter making an internal call: its node ID and
// Raft address. The leader uses them to send that voter a commit index
// right after applying its write.
const (
	headerNodeID   = "X-Yoloplane-Node-Id"
	headerRaftAddr = "X-Yoloplane-Raft-Addr"
)

// Internal route paths.
const (
	pathApply     = "/internal/v1/apply"
	pathJoin      = "/internal/v1/join"
	pathRemove    = "/internal/v1/remove"
	pathReadIndex = "/internal/v1/readindex"
	pathRateLimit = "/internal/v1/ratelimit"
)

// Config configures a Cluster.
type Config struct {
	// HTTPAddr is the host:port other voters reach this node's HTTP
	// listener at.
	HTTPAddr string
	// Secret authenticates internal calls between voters. Every voter of a
	// cluster has the same one.
	Secret string
	// Admin returns nil when the request's caller may change the voters,
	// and the error to send otherwise.
	Admin func(ctx *fasthttp.RequestCtx) *apierr.Error
	// Timeout bounds one internal call.
	Timeout time.Duration
	// Blobs is the store the blob route serves peers from. Nil serves
	// none.
	Blobs *blob.Store
}

// minSecretLen keeps guessable secrets out: 32 bytes is what GenerateSecret
// writes in hex form, 64 characters.
const minSecretLen = 32

// Validate returns an error naming the first missing or invalid field.
func (c Config) Validate() error {
	switch {
	case c.HTTPAddr == "":
		return errors.New("HTTP address is missing")
	case len(c.Secret) < minSecretLen:
		return fmt.Errorf("cluster secret has %d characters, at least %d are required", len(c.Secret), minSecretLen)
	case c.Admin == nil:
		return errors.New("admin check is missing")
	case c.Timeout <= 0:
		return fmt.Errorf("timeout %v must be positive", c.Timeout)
	}
	return nil
}

// Cluster serves the cluster routes of one voter and calls the other
// voters.
type Cluster struct {
	cfg     Config
	node    *raftnode.Node
	fsm     *state.FSM
	limiter *ratelimit.Limiter
	client  *fasthttp.Client
	// blobClient streams blob bodies, which fasthttp.Client would buffer.
	blobClient *http.Client
	ready      atomic.Bool
}

// New returns a Cluster for node, installs it as the node's write
// forwarder and as the limiter's route to the leader. limiter may be nil.
func New(cfg Config, node *raftnode.Node, limiter *ratelimit.Limiter) (*Cluster, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid cluster config: %w", err)
	}
	c := &Cluster{
		cfg: cfg, node: node, fsm: node.FSM(), limiter: limiter,
		client: &fasthttp.Client{
			Name:                "yoloplane-cluster",
			MaxConnsPerHost:     1024,
			ReadTimeout:         cfg.Timeout,
			WriteTimeout:        cfg.Timeout,
			MaxIdleConnDuration: time.Minute,
		},
		blobClient: &http.Client{},
	}
	node.SetForwarder(c.Forward)
	if limiter != nil {
		limiter.SetRemote(c.rateLimitRemote)
	}
	return c, nil
}

// SetReady marks the node ready for traffic. The caller sets it after
// raftnode's WaitReady returned.
func (c *Cluster) SetReady() { c.ready.Store(true) }

// leaderURL returns the base URL of the leader's HTTP listener.
func (c *Cluster) leaderURL() (string, error) {
	id, _ := c.node.Leader()
	if id == "" {
		return "", &raftnode.NotLeaderError{}
	}
	addr, ok := c.fsm.NodeHTTPAddr(id)
	if !ok {
		// Not sent, so the caller may retry as with an unknown leader.
		return "", fmt.Errorf("%w: HTTP address of leader %s is not recorded yet", raftnode.ErrNotLeader, id)
	}
	return "http://" + addr, nil
}

// call POSTs body to path on the leader and returns the response body and
// status. It copies the body, so the caller owns it.
func (c *Cluster) call(ctx context.Context, path string, body []byte) ([]byte, int, error) {
	base, err := c.leaderURL()
	if err != nil {
		return nil, 0, err
	}
	return c.post(ctx, base+path, body)
}

func (c *Cluster) post(ctx context.Context, url string, body []byte) ([]byte, int, error) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(url)
	req.Header.SetMethod(fasthttp.MethodPost)
	req.Header.Set(HeaderSecret, c.cfg.Secret)
	req.Header.Set(headerNodeID, c.node.ID())
	req.Header.Set(headerRaftAddr, c.node.Addr())
	req.Header.SetContentType("application/octet-stream")
	req.SetBody(body)
	timeout := c.cfg.Timeout
	if d, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(d))
	}
	if err := c.client.DoTimeout(req, resp, timeout); err != nil {
		if isDialError(err) {
			// The request never left, so the caller may retry as with an
			// unknown leader: a leader that just died refuses connections
			// until the followers elect another.
			return nil, 0, fmt.Errorf("%w: call %s: %w", raftnode.ErrNotLeader, url, err)
		}
		return nil, 0, fmt.Errorf("call %s: %w", url, err)
	}
	return append([]byte(nil), resp.Body()...), resp.StatusCode(), nil
}

// notLeaderRetry is how long a follower waits before retrying a command
// that reached a node which was no longer the leader.
const notLeaderRetry = 50 * time.Millisecond

// Forward sends cmd to the leader and returns its result. It is the
// node's raftnode.Forwarder. A command the leader rejected as not leading
// is retried on the new leader until ctx ends, because it was not applied.
// A call that failed in transit is not retried, because the command may
// have been applied. On success Forward waits until this node applied the
// entry too, so a read after a write finds it.
func (c *Cluster) Forward(ctx context.Context, _, _ string, cmd state.Command) (any, error) {
	entry, err := state.Encode(cmd)
	if err != nil {
		return nil, err
	}
	var leaderless time.Time // since when no leader is known, zero while one is
	for {
		var resp applyResponse
		body, status, err := c.call(ctx, pathApply, entry)
		if err == nil {
			err = decodeReply(body, status, &resp)
		}
		if err != nil && !errors.Is(err, raftnode.ErrNotLeader) {
			return nil, err
		}
		if err == nil && resp.Kind != kindNotLeader {
			return c.finish(ctx, resultType(cmd), resp)
		}
		if id, _ := c.node.Leader(); id != "" {
			leaderless = time.Time{}
		} else if leaderless.IsZero() {
			leaderless = time.Now()
		} else if time.Since(leaderless) > maxLeaderless {
			return nil, &raftnode.NotLeaderError{}
		}
		if err := sleep(ctx, notLeaderRetry); err != nil {
			return nil, fmt.Errorf("forward command %d: no leader accepted it: %w", cmd.CommandType(), err)
		}
	}
}

// maxLeaderless is how long Forward waits while no leader is known before
// it gives up on the command, which was not applied. An election after a
// leader dies takes well under a second with the default timeouts, so a
// longer gap means that a majority of voters is down or cut off.
const maxLeaderless = 3 * time.Second

// resultType returns the command whose result type cmd's result has: the
// wrapped command for a WithEvent.
func resultType(cmd state.Command) state.CommandType {
	if w, ok := cmd.(*state.WithEvent); ok {
		return w.Command.CommandType()
	}
	return cmd.CommandType()
}

func decodeReply(body []byte, status int, v any) error {
	if status != fasthttp.StatusOK {
		return fmt.Errorf("leader returned status %d: %s", status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("decode leader reply: %w", err)
	}
	return nil
}

func (c *Cluster) finish(ctx context.Context, t state.CommandType, resp applyResponse) (any, error) {
	if resp.Kind != "" {
		return nil, errorFromWire(resp.Kind, resp.Error)
	}
	if err := c.waitApplied(ctx, resp.Index); err != nil {
		return nil, err
	}
	return decodeResult(t, resp.Result)
}

// waitApplied waits until this node's state machine applied index.
func (c *Cluster) waitApplied(ctx context.Context, index uint64) error {
	if err := c.fsm.WaitApplied(ctx, index); err != nil {
		return fmt.Errorf("wait for entry %d to be applied: %w", index, err)
	}
	return nil
}

// ReadIndex waits until this node's state contains every write
// acknowledged before the call, so that a read served afterwards is
// linearizable. The leader confirms its leadership with a quorum; a
// follower requests the leader's applied index and waits to reach it.
func (c *Cluster) ReadIndex(ctx context.Context) error {
	if c.node.IsLeader() {
		return c.node.VerifyLeader(ctx)
	}
	body, status, err := c.call(ctx, pathReadIndex, nil)
	if err != nil {
		return fmt.Errorf("read index: %w", err)
	}
	var resp applyResponse
	if err := decodeReply(body, status, &resp); err != nil {
		return fmt.Errorf("read index: %w", err)
	}
	if resp.Kind != "" {
		return fmt.Errorf("read index: %w", errorFromWire(resp.Kind, resp.Error))
	}
	return c.waitApplied(ctx, resp.Index)
}

// RegisterAddr records this node's HTTP address in the replicated state
// when it is missing or changed. It goes through the leader like any
// write.
func (c *Cluster) RegisterAddr(ctx context.Context) error {
	if addr, ok := c.fsm.NodeHTTPAddr(c.node.ID()); ok && addr == c.cfg.HTTPAddr {
		return nil
	}
	_, err := c.node.Apply(ctx, &state.SetNodeAddr{NodeID: c.node.ID(), HTTPAddr: c.cfg.HTTPAddr})
	if err != nil {
		return fmt.Errorf("record HTTP address %s of node %s: %w", c.cfg.HTTPAddr, c.node.ID(), err)
	}
	return nil
}

// rateLimitRemote is the limiter's call to the leader.
func (c *Cluster) rateLimitRemote(ctx context.Context, reqs []ratelimit.Request) ([]ratelimit.Decision, error) {
	payload, err := json.Marshal(reqs)
	if err != nil {
		return nil, fmt.Errorf("encode rate limit batch: %w", err)
	}
	body, status, err := c.call(ctx, pathRateLimit, payload)
	if err != nil {
		return nil, err
	}
	var ds []ratelimit.Decision
	if err := decodeReply(body, status, &ds); err != nil {
		return nil, err
	}
	return ds, nil
}

// Join requests that the cluster at baseURL (any voter) add this node. It
// retries every retry interval until a voter accepts or ctx ends.
func (c *Cluster) Join(ctx context.Context, baseURL string, req JoinRequest, retry time.Duration) error {
	payload, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("encode join request: %w", err)
	}
	var last error
	for {
		body, status, err := c.post(ctx, baseURL+pathJoin, payload)
		if err == nil && status == fasthttp.StatusOK {
			return nil
		}
		// A 4xx response, such as for a wrong secret or an ID in use,
		// would come back the same on every retry.
		if err == nil && status >= 400 && status < 500 {
			return &JoinError{URL: baseURL, Status: status, Message: errorMessage(body)}
		}
		last = err
		if err == nil {
			last = fmt.Errorf("status %d: %s", status, body)
		}
		if err := sleep(ctx, retry); err != nil {
			return fmt.Errorf("join cluster at %s: %w (last failure: %w)", baseURL, err, last)
		}
	}
}

func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial" || errors.Is(err, fasthttp.ErrDialTimeout)
}

func secretMatches(ctx *fasthttp.RequestCtx, secret string) bool {
	return httpserver.SecretMatches(ctx, HeaderSecret, secret)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// JoinError is a join that a voter refused with a 4xx status.
type JoinError struct {
	URL     string
	Status  int
	Message string
}

func (e *JoinError) Error() string {
	return fmt.Sprintf("join cluster at %s: status %d: %s", e.URL, e.Status, e.Message)
}

// errorMessage returns the message of a JSON error body, or the body.
func errorMessage(body []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		return e.Error
	}
	return string(body)
}
