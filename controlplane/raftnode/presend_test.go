package raftnode

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// gatedStore holds StoreLogs calls on the leader's log for entries above
// gateIndex until release is closed.
type gatedStore struct {
	raft.LogStore
	mu        sync.Mutex
	gateIndex uint64 // 0 lets everything through
	release   chan struct{}
}

func (g *gatedStore) StoreLogs(logs []*raft.Log) error {
	g.mu.Lock()
	gate, release := g.gateIndex, g.release
	g.mu.Unlock()
	if gate > 0 && logs[len(logs)-1].Index > gate {
		<-release
	}
	return g.LogStore.StoreLogs(logs)
}

func (g *gatedStore) StoreLog(l *raft.Log) error { return g.StoreLogs([]*raft.Log{l}) }

// TestPresendBeforeLeaderWrite holds the leader's own log write and checks
// that the first follower by ID logs the new entry meanwhile, while the
// write stays uncommitted: Apply returns only after the leader's write.
func TestPresendBeforeLeaderWrite(t *testing.T) {
	var mu sync.Mutex
	gates := map[string]*gatedStore{}
	wrapLogStore = func(id string, s raft.LogStore) raft.LogStore {
		mu.Lock()
		defer mu.Unlock()
		gates[id] = &gatedStore{LogStore: s}
		return gates[id]
	}
	t.Cleanup(func() { wrapLogStore = nil })
	c := newCluster(t, 3)
	leader := c.leader()
	var target *Node
	for _, n := range c.running() {
		if n != leader && (target == nil || n.ID() < target.ID()) {
			target = n
		}
	}

	mu.Lock()
	gate := gates[leader.ID()]
	mu.Unlock()
	last := leader.raft.LastIndex()
	release := make(chan struct{})
	var once sync.Once
	open := func() { once.Do(func() { close(release) }) }
	// The cluster cannot shut down while the leader's write is held.
	t.Cleanup(open)
	gate.mu.Lock()
	gate.gateIndex, gate.release = last, release
	gate.mu.Unlock()

	done := make(chan error, 1)
	go func() {
		_, err := leader.Apply(context.Background(), createProject(1))
		done <- err
	}()
	eventually(t, "the entry in "+target.ID()+"'s log", func() bool { return target.raft.LastIndex() > last })
	select {
	case err := <-done:
		t.Fatalf("Apply returned (err %v) before the leader wrote the entry", err)
	case <-time.After(200 * time.Millisecond):
	}

	open()
	if err := <-done; err != nil {
		t.Fatalf("Apply after the leader's write: %v", err)
	}
	c.waitConverged([]int{1})
}
