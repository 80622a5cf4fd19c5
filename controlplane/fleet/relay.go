package fleet

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/shared/wire"
)

// headerRelayed marks a heartbeat that a voter passed on from a node. The
// voter that receives it records it but does not pass it on, so a
// heartbeat never travels in a loop.
const headerRelayed = "X-Yoloplane-Relayed"

// relayer passes the heartbeats a voter receives from nodes on to every
// other voter. Every voter then has the whole fleet in its registry: the
// leader places deployments on nodes that heartbeat to a follower, any
// voter proxies predicts to them, and a new leader starts with a full
// registry.
//
// One worker per peer sends that peer's heartbeats in order. It keeps only
// the latest heartbeat of each node, so a slow or dead peer delays only
// itself and its backlog never grows beyond one heartbeat per node.
type relayer struct {
	mu      sync.Mutex
	peers   func() []string
	pending map[string][]byte // heartbeat bodies not yet handed to workers, by node ID
	workers map[string]*relayWorker
	wake    chan struct{}
}

type relayWorker struct {
	mu      sync.Mutex
	pending map[string][]byte // by node ID
	wake    chan struct{}
}

func newRelayer() *relayer {
	return &relayer{pending: map[string][]byte{}, workers: map[string]*relayWorker{}, wake: make(chan struct{}, 1)}
}

// SetPeers installs the function that returns the base URLs of the other
// voters, such as http://10.0.0.2:8080. Without it a voter relays nothing,
// which suits a single voter. Call it before Run.
func (s *Service) SetPeers(peers func() []string) {
	s.relay.mu.Lock()
	defer s.relay.mu.Unlock()
	s.relay.peers = peers
}

// enqueue queues a heartbeat body for the other voters. It copies body,
// because fasthttp reuses the request buffer after the handler returns.
func (r *relayer) enqueue(nodeID string, body []byte) {
	r.mu.Lock()
	if r.peers == nil {
		r.mu.Unlock()
		return
	}
	r.pending[nodeID] = append([]byte(nil), body...)
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// runRelay hands queued heartbeats to the peer workers until ctx ends. It
// reads the peer list on every pass, so voters that join later get the
// heartbeats from then on.
func (s *Service) runRelay(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.relay.wake:
		}
		s.relay.mu.Lock()
		batch, peers := s.relay.pending, s.relay.peers
		s.relay.pending = map[string][]byte{}
		s.relay.mu.Unlock()
		if peers == nil {
			continue
		}
		for _, url := range peers() {
			s.relayWorker(ctx, url).add(batch)
		}
	}
}

// relayWorker returns the worker of a peer, starting it on first use.
func (s *Service) relayWorker(ctx context.Context, url string) *relayWorker {
	s.relay.mu.Lock()
	defer s.relay.mu.Unlock()
	w, ok := s.relay.workers[url]
	if !ok {
		w = &relayWorker{pending: map[string][]byte{}, wake: make(chan struct{}, 1)}
		s.relay.workers[url] = w
		go s.runRelayWorker(ctx, url, w)
	}
	return w
}

func (w *relayWorker) add(batch map[string][]byte) {
	w.mu.Lock()
	for id, body := range batch {
		w.pending[id] = body
	}
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (s *Service) runRelayWorker(ctx context.Context, url string, w *relayWorker) {
	var failingSince time.Time // zero while the peer accepts heartbeats
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		}
		w.mu.Lock()
		batch := w.pending
		w.pending = map[string][]byte{}
		w.mu.Unlock()
		for nodeID, body := range batch {
			err := s.postHeartbeat(url, body)
			switch {
			case err != nil && failingSince.IsZero():
				// Logged once per outage, not once per heartbeat.
				failingSince = s.now()
				s.log.Warn("heartbeat relay to voter failed", "peer", url, "node_id", nodeID, "error", err)
			case err == nil && !failingSince.IsZero():
				s.log.Info("heartbeat relay to voter recovered", "peer", url, "failed_for", s.now().Sub(failingSince).Round(time.Millisecond))
				failingSince = time.Time{}
			}
		}
	}
}

// postHeartbeat sends one relayed heartbeat to a peer voter.
func (s *Service) postHeartbeat(url string, body []byte) error {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(url + wire.PathHeartbeat)
	req.Header.SetMethod(fasthttp.MethodPost)
	req.Header.Set(wire.HeaderSecret, s.cfg.Secret)
	req.Header.Set(headerRelayed, "1")
	req.Header.SetContentType("application/json")
	req.SetBody(body)
	if err := s.client.Do(req, resp); err != nil {
		return err
	}
	if resp.StatusCode() != fasthttp.StatusOK {
		return fmt.Errorf("peer returned status %d: %s", resp.StatusCode(), resp.Body())
	}
	return nil
}
