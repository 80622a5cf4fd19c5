package raftnode

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yoloplane/yoloplane/controlplane/state"
)

// cluster is a loopback Raft cluster whose nodes can be stopped and
// restarted, on their old address or a new one.
type cluster struct {
	tb    testing.TB
	mu    sync.Mutex
	dirs  map[string]string
	nodes map[string]*Node // nil while a node is stopped
	tune  func(*Config)    // changes each node's config when not nil
}

func nodeName(i int) string { return fmt.Sprintf("n%d", i+1) }

// newCluster bootstraps n1, creates the test user and adds the other
// voters through the leader.
func newCluster(tb testing.TB, size int) *cluster {
	return newTunedCluster(tb, size, nil)
}

// newTunedCluster is newCluster with tune applied to every node's config.
func newTunedCluster(tb testing.TB, size int, tune func(*Config)) *cluster {
	c := &cluster{tb: tb, dirs: map[string]string{}, nodes: map[string]*Node{}, tune: tune}
	tb.Cleanup(c.closeAll)
	first := c.start("n1", "127.0.0.1:0", true)
	waitReady(tb, first)
	mustApply(tb, first, createUser())
	for i := 1; i < size; i++ {
		n := c.start(nodeName(i), "127.0.0.1:0", false)
		if err := first.AddVoter(n.ID(), n.Addr()); err != nil {
			tb.Fatalf("AddVoter(%s): %v", n.ID(), err)
		}
	}
	for _, n := range c.running() {
		if tune == nil {
			waitReady(tb, n)
			continue
		}
		// A tuned config may keep followers from ever being ready, such
		// as one that delays commit indexes, so knowing the leader will do.
		eventually(tb, n.ID()+" knowing the leader", func() bool { id, _ := n.Leader(); return id != "" })
	}
	return c
}

func (c *cluster) start(id, addr string, bootstrap bool) *Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dirs[id] == "" {
		c.dirs[id] = c.tb.TempDir()
	}
	cfg := testConfig(id, c.dirs[id], bootstrap)
	cfg.RaftAddr = addr
	if c.tune != nil {
		c.tune(&cfg)
	}
	n := openNode(c.tb, cfg)
	c.nodes[id] = n
	return n
}

func (c *cluster) stop(id string) {
	c.mu.Lock()
	n := c.nodes[id]
	c.nodes[id] = nil
	c.mu.Unlock()
	if err := n.Close(); err != nil {
		c.tb.Errorf("Close(%s): %v", id, err)
	}
}

func (c *cluster) closeAll() {
	for _, n := range c.running() {
		c.stop(n.ID())
	}
}

func (c *cluster) node(id string) *Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[id]
}

// running returns the running nodes ordered by ID.
func (c *cluster) running() []*Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*Node
	for _, n := range c.nodes {
		if n != nil {
			out = append(out, n)
		}
	}
	slices.SortFunc(out, func(a, b *Node) int { return strings.Compare(a.ID(), b.ID()) })
	return out
}

// currentLeader returns the running node that considers itself leader, or
// nil.
func (c *cluster) currentLeader() *Node {
	for _, n := range c.running() {
		if n.IsLeader() {
			return n
		}
	}
	return nil
}

func (c *cluster) leader() *Node {
	var l *Node
	eventually(c.tb, "a leader", func() bool { l = c.currentLeader(); return l != nil })
	return l
}

func (c *cluster) follower() *Node {
	leader := c.leader()
	for _, n := range c.running() {
		if n != leader {
			return n
		}
	}
	c.tb.Fatalf("no follower among %d running nodes", len(c.running()))
	return nil
}

// waitConverged polls until every running node holds every project in
// acked and all nodes have identical state.
func (c *cluster) waitConverged(acked []int) {
	c.tb.Helper()
	eventually(c.tb, fmt.Sprintf("%d acknowledged projects on every node", len(acked)), func() bool {
		var first []byte
		for _, n := range c.running() {
			for _, p := range acked {
				if _, ok := n.FSM().ProjectByID(id(1000 + p)); !ok {
					return false
				}
			}
			dump := fsmDump(c.tb, n.FSM())
			if first == nil {
				first = dump
			} else if !bytes.Equal(first, dump) {
				return false
			}
		}
		return true
	})
}

// writer applies projects to whichever node leads, from one goroutine,
// and records the ones acknowledged.
type writer struct {
	c     *cluster
	next  int
	mu    sync.Mutex
	acked []int
	stop  chan struct{}
	done  chan struct{}
}

func (c *cluster) startWriter(from int) *writer {
	w := &writer{c: c, next: from, stop: make(chan struct{}), done: make(chan struct{})}
	go w.run()
	return w
}

func (w *writer) run() {
	defer close(w.done)
	for {
		select {
		case <-w.stop:
			return
		default:
		}
		leader := w.c.currentLeader()
		if leader == nil {
			time.Sleep(5 * time.Millisecond)
			continue
		}
		// Each attempt uses a new project: an attempt that failed may still
		// have committed, and only acknowledged ones are checked.
		p := w.next
		w.next++
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := leader.Apply(ctx, createProject(p))
		cancel()
		if err != nil {
			time.Sleep(5 * time.Millisecond)
			continue
		}
		w.mu.Lock()
		w.acked = append(w.acked, p)
		w.mu.Unlock()
	}
}

func (w *writer) ackedCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.acked)
}

// finish stops the writer and returns the acknowledged projects.
func (w *writer) finish() []int {
	close(w.stop)
	<-w.done
	return w.acked
}

func TestClusterFailover(t *testing.T) {
	c := newCluster(t, 3)
	if servers, err := c.leader().Servers(); err != nil || len(servers) != 3 {
		t.Fatalf("Servers() = %v, %v, want 3 servers", servers, err)
	}

	w := c.startWriter(0)
	eventually(t, "20 writes before the kill", func() bool { return w.ackedCount() >= 20 })

	// Kill the leader while writes are in flight.
	old := c.leader()
	oldID, oldAddr := old.ID(), old.Addr()
	c.stop(oldID)
	before := w.ackedCount()
	eventually(t, "a new leader", func() bool { l := c.currentLeader(); return l != nil && l.ID() != oldID })
	eventually(t, "20 writes after the kill", func() bool { return w.ackedCount() >= before+20 })

	// The old leader comes back on its old address and catches up. Once
	// WaitReady returns, every write acknowledged before the restart must
	// be in its state without further waiting.
	w.mu.Lock()
	ackedBeforeRestart := slices.Clone(w.acked)
	w.mu.Unlock()
	restarted := c.start(oldID, oldAddr, true)
	waitReady(t, restarted)
	for _, p := range ackedBeforeRestart {
		if _, ok := restarted.FSM().ProjectByID(id(1000 + p)); !ok {
			t.Errorf("project %d, acknowledged before the restart, missing after WaitReady", p)
		}
	}
	acked := w.finish()
	c.waitConverged(acked)
	t.Logf("%d writes acknowledged, %d of them before the kill", len(acked), before)
	if l := c.leader(); l.ID() == oldID {
		t.Logf("old leader %s won leadership back", oldID)
	}
}

func TestClusterNodeMovesAddress(t *testing.T) {
	c := newCluster(t, 3)
	for i := range 10 {
		mustApply(t, c.leader(), createProject(i))
	}
	f := c.follower()
	fid, oldAddr := f.ID(), f.Addr()
	c.stop(fid)

	moved := c.start(fid, "127.0.0.1:0", false)
	if moved.Addr() == oldAddr {
		t.Fatalf("restarted node got its old address %s, want a new one", oldAddr)
	}
	if err := c.leader().AddVoter(fid, moved.Addr()); err != nil {
		t.Fatalf("AddVoter(%s, new address): %v", fid, err)
	}
	acked := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	for i := 10; i < 20; i++ {
		mustApply(t, c.leader(), createProject(i))
		acked = append(acked, i)
	}
	c.waitConverged(acked)

	servers, err := c.leader().Servers()
	if err != nil {
		t.Fatalf("Servers: %v", err)
	}
	var addrs []string
	for _, s := range servers {
		if s.ID == fid {
			addrs = append(addrs, s.Addr)
		}
	}
	if len(addrs) != 1 || addrs[0] != moved.Addr() {
		t.Errorf("configuration lists %s at %v, want only %s", fid, addrs, moved.Addr())
	}
}

func TestClusterRemoveServer(t *testing.T) {
	c := newCluster(t, 3)
	f := c.follower()
	if err := f.AddVoter("n9", "127.0.0.1:1"); !errors.Is(err, ErrNotLeader) {
		t.Errorf("AddVoter on a follower: err = %v, want ErrNotLeader", err)
	}
	if err := c.leader().RemoveServer(f.ID()); err != nil {
		t.Fatalf("RemoveServer(%s): %v", f.ID(), err)
	}
	c.stop(f.ID())
	servers, err := c.leader().Servers()
	if err != nil {
		t.Fatalf("Servers: %v", err)
	}
	if len(servers) != 2 {
		t.Errorf("Servers() = %v, want 2 servers", servers)
	}
	mustApply(t, c.leader(), createProject(0))
}

func TestFollowerForwards(t *testing.T) {
	c := newCluster(t, 3)
	f := c.follower()
	leaderID, leaderAddr := c.leader().ID(), c.leader().Addr()

	_, err := f.Apply(ctxTimeout(t, 5*time.Second), createProject(0))
	var nle *NotLeaderError
	if !errors.As(err, &nle) {
		t.Fatalf("Apply on a follower: err = %v, want *NotLeaderError", err)
	}
	if nle.LeaderID != leaderID || nle.LeaderAddr != leaderAddr {
		t.Errorf("NotLeaderError names %s at %s, want %s at %s", nle.LeaderID, nle.LeaderAddr, leaderID, leaderAddr)
	}

	var forwarded atomic.Int32
	f.SetForwarder(func(ctx context.Context, id, addr string, cmd state.Command) (any, error) {
		forwarded.Add(1)
		return c.node(id).Apply(ctx, cmd)
	})
	res := mustApply(t, f, createProject(1))
	if p := res.(state.Project); p.Slug != "p1" {
		t.Errorf("forwarded result slug = %q, want p1", p.Slug)
	}
	if forwarded.Load() != 1 {
		t.Errorf("forwarder called %d times, want 1", forwarded.Load())
	}
	c.waitConverged([]int{1})
	if _, ok := c.node(leaderID).FSM().ProjectByID(id(1000)); ok {
		t.Errorf("project 0, rejected by the follower, exists")
	}
}

func BenchmarkApplyParallel(b *testing.B) {
	c := newCluster(b, 3)
	leader := c.leader()
	var next atomic.Int64
	for _, clients := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			var remaining atomic.Int64
			remaining.Store(int64(b.N))
			var wg sync.WaitGroup
			b.ResetTimer()
			for range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for remaining.Add(-1) >= 0 {
						p := int(next.Add(1))
						if _, err := leader.Apply(context.Background(), createProject(p)); err != nil {
							b.Errorf("Apply: %v", err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
		})
	}
}
