package gossip

// EventType is the kind of change an Event reports.
type EventType int

// Event types.
const (
	// EventJoin reports a node that joined, or came back after being dead.
	EventJoin EventType = iota + 1
	// EventLeave reports a node that left or was declared dead. Member is
	// the node as it was last known.
	EventLeave
	// EventUpdate reports new metadata or a new model set of a node.
	EventUpdate
)

func (t EventType) String() string {
	switch t {
	case EventJoin:
		return "join"
	case EventLeave:
		return "leave"
	case EventUpdate:
		return "update"
	}
	return "unknown"
}

// Event is one change in the pool, including changes of the local node.
type Event struct {
	Type   EventType
	Member Member
}

// Subscribe returns a channel that receives every later event. The channel
// holds Config.EventBuffer events. The pool never blocks on a subscriber:
// when the channel is full, the event is dropped and counted in
// DroppedEvents, so a subscriber that must not miss changes should re-read
// Members after it drains a backlog. The channel is closed by Shutdown, and
// a Subscribe after Shutdown returns a closed channel.
func (p *Pool) Subscribe() <-chan Event {
	ch := make(chan Event, p.cfg.EventBuffer)

	p.subMu.Lock()
	defer p.subMu.Unlock()
	if p.subsClosed {
		close(ch)
		return ch
	}
	p.subs = append(p.subs, ch)
	return ch
}

// DroppedEvents returns how many events were dropped because a subscriber's
// channel was full, summed over all subscribers.
func (p *Pool) DroppedEvents() uint64 {
	return p.dropped.Load()
}

// emit sends e to every subscriber without blocking. Memberlist calls the
// event delegate with its node lock held, so emit must never wait.
func (p *Pool) emit(e Event) {
	p.subMu.Lock()
	defer p.subMu.Unlock()
	for _, ch := range p.subs {
		select {
		case ch <- e:
		default:
			p.dropped.Add(1)
		}
	}
}

func (p *Pool) closeSubscribers() {
	p.subMu.Lock()
	defer p.subMu.Unlock()
	for _, ch := range p.subs {
		close(ch)
	}
	p.subs = nil
	p.subsClosed = true
}
