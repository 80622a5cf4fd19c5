package gossip

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
)

// ErrShutdown is returned by methods called after Shutdown.
var ErrShutdown = errors.New("gossip pool shut down")

// Member is one node of the pool in the local node's view.
type Member struct {
	Name     string
	Addr     string // gossip address, host:port
	HTTPAddr string
	Region   string
	Capacity int
	Load     float64
	// ModelsVersion is the version of the node's model set named in its
	// metadata.
	ModelsVersion uint64
	// Models is the node's model set as last received. It can lag
	// ModelsVersion, and ModelsSynced reports whether it does not.
	Models       map[string]ModelState
	ModelsSynced bool
}

// nodeInfo is a member's address and metadata from the last event delegate call.
type nodeInfo struct {
	addr string
	meta nodeMeta
}

// Pool is the local node's membership in its region's gossip pool.
type Pool struct {
	cfg    Config
	logger *slog.Logger
	ml     *memberlist.Memberlist
	queue  *memberlist.TransmitLimitedQueue
	epoch  int64

	mu           sync.RWMutex
	local        nodeMeta
	localMeta    []byte              // encoded local, what NodeMeta returns
	sets         map[string]modelSet // by node name, the local node's included
	nodes        map[string]nodeInfo // alive and suspect members, from memberlist events
	sendReliable bool                // the local set is too large to broadcast and waits for TCP sends
	left         bool

	// setModelsMu serializes SetModels, and queueMu orders enqueues, so a
	// newer model set is never queued before an older one of the same node,
	// which would invalidate it.
	setModelsMu sync.Mutex
	queueMu     sync.Mutex

	published []byte // metadata last given to UpdateNode, used by the run goroutine only
	changed   chan struct{}
	stop      chan struct{}
	runDone   chan struct{}

	lifeMu   sync.Mutex // serializes Leave and Shutdown, because memberlist panics on Leave after Shutdown
	shutdown atomic.Bool

	subMu      sync.Mutex
	subs       []chan Event
	subsClosed bool
	dropped    atomic.Uint64

	badMessages rateLimiter
}

// Start creates the local node, binds its gossip address and joins the
// pool through cfg.Join. With no join addresses the node starts a pool of
// its own. Start fails when every join address fails, including when the
// pool there belongs to another region.
func Start(cfg Config) (*Pool, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid gossip config: %w", err)
	}
	p := newPool(cfg)

	mc, err := cfg.memberlistConfig()
	if err != nil {
		return nil, err
	}
	d := delegate{p: p}
	mc.Delegate, mc.Events, mc.Alive, mc.Merge = d, d, d, d
	mc.Logger = newMemberlistLogger(p.logger)
	p.queue = &memberlist.TransmitLimitedQueue{
		NumNodes:       p.numNodes,
		RetransmitMult: mc.RetransmitMult,
	}

	started := time.Now()
	p.logger.Info("starting", "node", cfg.NodeName, "region", cfg.Region, "bind_addr", cfg.BindAddr)
	ml, err := memberlist.Create(mc)
	if err != nil {
		return nil, fmt.Errorf("create memberlist on %s: %w", cfg.BindAddr, err)
	}
	p.ml = ml
	go p.run()

	if err := p.join(cfg.Join); err != nil {
		if shutdownErr := p.Shutdown(); shutdownErr != nil {
			err = errors.Join(err, shutdownErr)
		}
		return nil, err
	}
	p.logger.Info("started", "node", cfg.NodeName, "gossip_addr", ml.LocalNode().Address(),
		"members", ml.NumMembers(), "duration", time.Since(started))
	return p, nil
}

func newPool(cfg Config) *Pool {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	p := &Pool{
		cfg:         cfg,
		logger:      logger,
		epoch:       time.Now().UnixNano(),
		local:       nodeMeta{Region: cfg.Region, HTTPAddr: cfg.HTTPAddr, Capacity: cfg.Capacity},
		sets:        map[string]modelSet{},
		nodes:       map[string]nodeInfo{},
		changed:     make(chan struct{}, 1),
		stop:        make(chan struct{}),
		runDone:     make(chan struct{}),
		badMessages: rateLimiter{interval: time.Minute},
	}
	p.localMeta = p.mustEncodeLocal()
	p.published = p.localMeta
	p.sets[cfg.NodeName] = modelSet{Node: cfg.NodeName, Epoch: p.epoch, Models: map[string]ModelState{}}
	return p
}

func (p *Pool) join(seeds []string) error {
	if len(seeds) == 0 {
		return nil
	}
	n, err := p.ml.Join(seeds)
	if n == 0 {
		return fmt.Errorf("join gossip pool through %v: %w", seeds, err)
	}
	if err != nil {
		p.logger.Warn("some join addresses failed", "joined", n, "join_addrs", seeds, "error", err)
	}
	return nil
}

// mustEncodeLocal encodes p.local. Validate has checked the largest
// possible metadata, so an error here is a bug.
func (p *Pool) mustEncodeLocal() []byte {
	b, err := encodeMeta(p.local)
	if err != nil {
		panic("BUG: node metadata passed Validate but does not encode: " + err.Error())
	}
	return b
}

// LocalName returns the local node's name.
func (p *Pool) LocalName() string { return p.cfg.NodeName }

// Addr returns the gossip address, host:port, that peers use to reach the
// local node. With a bind port of 0 it names the port actually bound.
func (p *Pool) Addr() string { return p.ml.LocalNode().Address() }

// SetLoad sets the load the node advertises: in-flight requests divided by
// Capacity, which exceeds 1 when requests queue. It returns at once. A
// background goroutine publishes the value at most once per
// Config.MetaUpdateInterval, and only when it changed.
func (p *Pool) SetLoad(load float64) error {
	if math.IsNaN(load) || math.IsInf(load, 0) || load < 0 {
		return fmt.Errorf("invalid load %v: must be a finite number of at least 0", load)
	}
	if p.shutdown.Load() {
		return ErrShutdown
	}

	p.mu.Lock()
	p.local.Load = load
	p.localMeta = p.mustEncodeLocal()
	p.mu.Unlock()

	p.signal()
	return nil
}

// SetModels replaces the local node's model set, bumps its version and
// sends it to the pool. The map is copied. Sets that encode to at most
// 1 KiB go out as a gossip broadcast. Larger ones go to each member over TCP
// from the background goroutine.
func (p *Pool) SetModels(models map[string]ModelState) error {
	if err := validateModels(models); err != nil {
		return err
	}
	if p.shutdown.Load() {
		return ErrShutdown
	}
	p.setModelsMu.Lock()
	defer p.setModelsMu.Unlock()

	p.mu.Lock()
	set := p.sets[p.cfg.NodeName]
	set = modelSet{Node: set.Node, Epoch: set.Epoch, Version: set.Version + 1, Models: maps.Clone(models)}
	if set.Models == nil {
		set.Models = map[string]ModelState{}
	}
	p.sets[set.Node] = set
	p.local.ModelsVersion = set.Version
	p.localMeta = p.mustEncodeLocal()
	msg := encodeModelSetMsg(set)
	p.sendReliable = len(msg) > maxBroadcastSize
	p.mu.Unlock()

	if len(msg) <= maxBroadcastSize {
		p.enqueue(set, msg)
	}
	p.signal()
	return nil
}

// enqueue queues msg for broadcast if set is still the newest stored for
// its node.
func (p *Pool) enqueue(set modelSet, msg []byte) {
	p.queueMu.Lock()
	defer p.queueMu.Unlock()

	p.mu.RLock()
	current := p.sets[set.Node]
	p.mu.RUnlock()
	if current.Epoch != set.Epoch || current.Version != set.Version {
		return
	}
	p.queue.QueueBroadcast(&modelBroadcast{node: set.Node, msg: msg})
}

func (p *Pool) signal() {
	select {
	case p.changed <- struct{}{}:
	default:
	}
}

// Members returns the alive and suspect members, the local node included,
// sorted by name. The caller owns the slice and the maps in it.
func (p *Pool) Members() []Member {
	p.mu.RLock()
	out := make([]Member, 0, len(p.nodes))
	for name, info := range p.nodes {
		out = append(out, p.memberLocked(name, info))
	}
	p.mu.RUnlock()

	slices.SortFunc(out, func(a, b Member) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// NodesWithModel returns the members on which modelID is ready, least
// loaded first and then by name.
func (p *Pool) NodesWithModel(modelID string) []Member {
	var out []Member
	for _, m := range p.Members() {
		if m.Models[modelID] == ModelReady {
			out = append(out, m)
		}
	}
	slices.SortStableFunc(out, func(a, b Member) int { return cmp.Compare(a.Load, b.Load) })
	return out
}

// memberLocked builds a Member. The local node's entry uses the current
// local metadata, which can be newer than what memberlist last reported.
func (p *Pool) memberLocked(name string, info nodeInfo) Member {
	meta := info.meta
	if name == p.cfg.NodeName {
		meta = p.local
	}
	set := p.sets[name]
	models := maps.Clone(set.Models)
	if models == nil {
		models = map[string]ModelState{}
	}
	return Member{
		Name:          name,
		Addr:          info.addr,
		HTTPAddr:      meta.HTTPAddr,
		Region:        meta.Region,
		Capacity:      meta.Capacity,
		Load:          meta.Load,
		ModelsVersion: meta.ModelsVersion,
		Models:        models,
		ModelsSynced:  set.Version == meta.ModelsVersion,
	}
}

func (p *Pool) numNodes() int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return len(p.nodes)
}

// Leave announces that the node leaves the pool and waits up to timeout for
// the announcement to go out. The node stops publishing metadata but keeps
// responding to peers until Shutdown, which must still be called.
func (p *Pool) Leave(timeout time.Duration) error {
	p.lifeMu.Lock()
	defer p.lifeMu.Unlock()
	if p.shutdown.Load() {
		return ErrShutdown
	}

	p.mu.Lock()
	p.left = true
	p.mu.Unlock()

	if err := p.ml.Leave(timeout); err != nil {
		return fmt.Errorf("leave gossip pool: %w", err)
	}
	p.logger.Info("left pool", "node", p.cfg.NodeName)
	return nil
}

// Shutdown stops the node without announcing it, so peers detect it as
// failed unless Leave came first. It closes every subscriber channel. It is
// safe to call more than once.
func (p *Pool) Shutdown() error {
	p.lifeMu.Lock()
	defer p.lifeMu.Unlock()
	if p.shutdown.Swap(true) {
		return nil
	}

	close(p.stop)
	<-p.runDone
	err := p.ml.Shutdown()
	p.closeSubscribers()
	if err != nil {
		return fmt.Errorf("shut down memberlist: %w", err)
	}
	p.logger.Info("stopped", "node", p.cfg.NodeName)
	return nil
}

// run publishes local changes: metadata through memberlist.UpdateNode, and
// model sets too large to broadcast over TCP. It sleeps
// MetaUpdateInterval after each round, and changes made meanwhile go out
// together in the next round.
func (p *Pool) run() {
	defer close(p.runDone)
	pause := time.NewTimer(0)
	defer pause.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-p.changed:
		}
		p.publish()

		pause.Reset(p.cfg.MetaUpdateInterval)
		select {
		case <-p.stop:
			return
		case <-pause.C:
		}
	}
}

func (p *Pool) publish() {
	p.mu.Lock()
	meta := p.localMeta
	left := p.left
	reliable := p.sendReliable
	p.sendReliable = false
	set := p.sets[p.cfg.NodeName].clone()
	p.mu.Unlock()

	// An update after Leave would announce the node as alive again.
	if left {
		return
	}
	if !bytes.Equal(meta, p.published) {
		if err := p.ml.UpdateNode(p.cfg.UpdateTimeout); err != nil {
			p.logger.Warn("metadata update not confirmed", "node", p.cfg.NodeName, "error", err)
		}
		p.published = meta
	}
	if reliable {
		p.sendToAll(encodeModelSetMsg(set))
	}
}

// sendToAll sends msg to each peer in turn. NOTE: each send may block for
// up to TCPTimeout, so with unreachable peers it delays the next metadata
// update and Shutdown.
func (p *Pool) sendToAll(msg []byte) {
	for _, node := range p.ml.Members() {
		if node.Name == p.cfg.NodeName {
			continue
		}
		if err := p.ml.SendReliable(node, msg); err != nil {
			p.logger.Warn("send model set failed", "node", p.cfg.NodeName, "peer", node.Name, "error", err)
		}
	}
}
