package gossip

import (
	"fmt"

	"github.com/hashicorp/memberlist"
)

// delegate receives memberlist's callbacks for a Pool. Memberlist calls
// these methods on its own goroutines, concurrently with each other except
// for the event methods. NotifyAlive and the event methods run with
// memberlist's node lock held, so none of them may call back into the
// Memberlist, and the Pool never calls memberlist while holding Pool.mu.
type delegate struct {
	p *Pool
}

var (
	_ memberlist.Delegate      = delegate{}
	_ memberlist.EventDelegate = delegate{}
	_ memberlist.AliveDelegate = delegate{}
	_ memberlist.MergeDelegate = delegate{}
)

// NodeMeta returns the local metadata. Validate ensures it fits in limit.
func (d delegate) NodeMeta(limit int) []byte {
	d.p.mu.RLock()
	defer d.p.mu.RUnlock()
	if len(d.p.localMeta) > limit {
		panic(fmt.Sprintf("BUG: node metadata is %d bytes, limit %d", len(d.p.localMeta), limit))
	}
	return d.p.localMeta
}

// NotifyMsg handles a model set from a peer. b is reused by memberlist after
// the call, and decoding copies what it keeps.
func (d delegate) NotifyMsg(b []byte) {
	set, err := decodeModelSetMsg(b)
	if err != nil {
		d.p.logBadMessage(err)
		return
	}
	if !d.p.mergeSet(set) {
		return
	}
	// Relaying each new set once spreads it epidemically, because the
	// origin's own broadcast reaches only a few random peers.
	msg := encodeModelSetMsg(set)
	if len(msg) <= maxBroadcastSize {
		d.p.enqueue(set, msg)
	}
}

func (d delegate) GetBroadcasts(overhead, limit int) [][]byte {
	return d.p.queue.GetBroadcasts(overhead, limit)
}

// LocalState returns every model set the node stores, its own included, so
// one push-pull exchange repairs anything the broadcasts missed.
func (d delegate) LocalState(join bool) []byte {
	d.p.mu.RLock()
	sets := make([]modelSet, 0, len(d.p.sets))
	for _, s := range d.p.sets {
		sets = append(sets, s)
	}
	state := encodeState(sets)
	d.p.mu.RUnlock()
	return state
}

func (d delegate) MergeRemoteState(buf []byte, join bool) {
	sets, err := decodeState(buf)
	if err != nil {
		d.p.logBadMessage(err)
		return
	}
	for _, s := range sets {
		d.p.mergeSet(s)
	}
}

// NotifyAlive rejects peers of other regions and peers whose metadata does
// not decode, so they never become members.
func (d delegate) NotifyAlive(peer *memberlist.Node) error {
	return d.p.checkPeer(peer)
}

// NotifyMerge cancels a join or merge with a pool that contains a node of
// another region.
func (d delegate) NotifyMerge(peers []*memberlist.Node) error {
	for _, peer := range peers {
		if err := d.p.checkPeer(peer); err != nil {
			return err
		}
	}
	return nil
}

func (d delegate) NotifyJoin(n *memberlist.Node) {
	d.p.updateNode(n, EventJoin)
}

func (d delegate) NotifyUpdate(n *memberlist.Node) {
	d.p.updateNode(n, EventUpdate)
}

func (d delegate) NotifyLeave(n *memberlist.Node) {
	p := d.p
	p.mu.Lock()
	info, ok := p.nodes[n.Name]
	if !ok {
		p.mu.Unlock()
		return
	}
	m := p.memberLocked(n.Name, info)
	delete(p.nodes, n.Name)
	if n.Name != p.cfg.NodeName {
		delete(p.sets, n.Name)
	}
	p.mu.Unlock()

	p.logger.Info("member left", "node", p.cfg.NodeName, "peer", n.Name, "peer_addr", m.Addr)
	p.emit(Event{Type: EventLeave, Member: m})
}

func (p *Pool) checkPeer(peer *memberlist.Node) error {
	meta, err := decodeMeta(peer.Meta)
	if err != nil {
		return fmt.Errorf("reject node %q: %w", peer.Name, err)
	}
	if meta.Region != p.cfg.Region {
		return fmt.Errorf("reject node %q: region %q differs from this pool's region %q", peer.Name, meta.Region, p.cfg.Region)
	}
	return nil
}

// updateNode records n's metadata. NotifyAlive has already decoded it, so a
// decode error here means a bug in memberlist or in checkPeer.
func (p *Pool) updateNode(n *memberlist.Node, typ EventType) {
	meta, err := decodeMeta(n.Meta)
	if err != nil {
		p.logBadMessage(fmt.Errorf("metadata of node %q: %w", n.Name, err))
		return
	}
	p.mu.Lock()
	info := nodeInfo{addr: n.Address(), meta: meta}
	p.nodes[n.Name] = info
	m := p.memberLocked(n.Name, info)
	p.mu.Unlock()

	if typ == EventJoin {
		p.logger.Info("member joined", "node", p.cfg.NodeName, "peer", n.Name, "peer_addr", m.Addr)
	}
	p.emit(Event{Type: typ, Member: m})
}

// mergeSet stores set if it is newer than the stored set of its node and
// that node is a member. It reports whether it stored the set. The local
// node's set is never replaced from outside. NOTE: a set that arrives before
// its node's join event is dropped, and waits for the next push-pull
// exchange, by default PushPullInterval later.
func (p *Pool) mergeSet(set modelSet) bool {
	p.mu.Lock()
	info, member := p.nodes[set.Node]
	old, known := p.sets[set.Node]
	if set.Node == p.cfg.NodeName || !member || (known && !set.newerThan(old)) {
		p.mu.Unlock()
		return false
	}
	if set.Models == nil {
		set.Models = map[string]ModelState{}
	}
	p.sets[set.Node] = set
	m := p.memberLocked(set.Node, info)
	p.mu.Unlock()

	p.emit(Event{Type: EventUpdate, Member: m})
	return true
}

func (p *Pool) logBadMessage(err error) {
	ok, skipped := p.badMessages.allow()
	if !ok {
		return
	}
	p.logger.Warn("invalid gossip message dropped", "node", p.cfg.NodeName, "error", err, "suppressed", skipped)
}
