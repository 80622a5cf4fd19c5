package gossip

import (
	"errors"
	"fmt"
	"net"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// convergeTimeout bounds every wait for the pool to converge. It is far
// above the few hundred milliseconds convergence takes with testConfig's
// timings, so that a loaded machine does not fail the tests.
const convergeTimeout = 20 * time.Second

// nextHTTPPort numbers the HTTP addresses of test nodes. Nothing listens on
// them, and they only need to differ between nodes.
var nextHTTPPort atomic.Int32

// testConfig returns a loopback configuration with timings short enough
// that failure detection takes about a second.
func testConfig(name, region string, join ...string) Config {
	cfg := DefaultConfig()
	cfg.NodeName = name
	cfg.Region = region
	cfg.BindAddr = "127.0.0.1:0"
	cfg.HTTPAddr = fmt.Sprintf("127.0.0.1:%d", 20000+nextHTTPPort.Add(1))
	cfg.Capacity = 4
	cfg.Join = join
	cfg.ProbeInterval = 200 * time.Millisecond
	cfg.ProbeTimeout = 100 * time.Millisecond
	cfg.GossipInterval = 50 * time.Millisecond
	cfg.PushPullInterval = time.Second
	cfg.SuspicionMult = 2
	cfg.TCPTimeout = time.Second
	cfg.MetaUpdateInterval = 50 * time.Millisecond
	cfg.UpdateTimeout = 500 * time.Millisecond
	return cfg
}

func startNode(t *testing.T, cfg Config) *Pool {
	t.Helper()
	p, err := Start(cfg)
	if err != nil {
		t.Fatalf("start %s: %v", cfg.NodeName, err)
	}
	t.Cleanup(func() {
		if err := p.Shutdown(); err != nil {
			t.Errorf("shut down %s: %v", cfg.NodeName, err)
		}
	})
	return p
}

// startPool starts n nodes in region us-central1, each joining the first.
// change, when not nil, adjusts each node's configuration.
func startPool(t *testing.T, n int, change ...func(*Config)) []*Pool {
	t.Helper()
	var pools []*Pool
	for i := range n {
		cfg := testConfig(fmt.Sprintf("node-%d", i), "us-central1")
		if i > 0 {
			cfg.Join = []string{pools[0].Addr()}
		}
		for _, c := range change {
			c(&cfg)
		}
		pools = append(pools, startNode(t, cfg))
	}
	waitMembers(t, pools, names(pools)...)
	return pools
}

func names(pools []*Pool) []string {
	var out []string
	for _, p := range pools {
		out = append(out, p.LocalName())
	}
	slices.Sort(out)
	return out
}

func memberNames(members []Member) []string {
	var out []string
	for _, m := range members {
		out = append(out, m.Name)
	}
	return out
}

// waitFor polls cond until it returns "" or the deadline passes, and fails
// with the last description cond returned.
func waitFor(t *testing.T, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(convergeTimeout)
	for {
		problem := cond()
		if problem == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not converged after %v: %s", convergeTimeout, problem)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func waitMembers(t *testing.T, pools []*Pool, want ...string) {
	t.Helper()
	waitFor(t, func() string {
		for _, p := range pools {
			got := memberNames(p.Members())
			if !slices.Equal(got, want) {
				return fmt.Sprintf("%s sees %v, want %v", p.LocalName(), got, want)
			}
		}
		return ""
	})
}

func TestPoolJoinAndMetadata(t *testing.T) {
	pools := startPool(t, 3)

	for _, viewer := range pools {
		members := viewer.Members()
		for i, m := range members {
			want := pools[i].cfg
			if m.Region != "us-central1" || m.HTTPAddr != want.HTTPAddr || m.Capacity != want.Capacity {
				t.Errorf("%s sees %s as %+v, want region us-central1, HTTP %s, capacity %d",
					viewer.LocalName(), m.Name, m, want.HTTPAddr, want.Capacity)
			}
			if m.Addr != pools[i].Addr() {
				t.Errorf("%s sees %s at %s, want %s", viewer.LocalName(), m.Name, m.Addr, pools[i].Addr())
			}
			if !m.ModelsSynced || len(m.Models) != 0 {
				t.Errorf("%s sees %s with models %v, synced %v; want an empty synced set",
					viewer.LocalName(), m.Name, m.Models, m.ModelsSynced)
			}
		}
	}
}

func TestPoolLoadPropagates(t *testing.T) {
	pools := startPool(t, 3)
	if err := pools[1].SetLoad(0.75); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() string {
		for _, p := range pools {
			if got := p.Members()[1].Load; got != 0.75 {
				return fmt.Sprintf("%s sees load %v of node-1, want 0.75", p.LocalName(), got)
			}
		}
		return ""
	})
}

func TestSetLoadInvalid(t *testing.T) {
	p := startNode(t, testConfig("node-0", "us-central1"))
	for _, load := range []float64{-0.1, nanValue(), infValue()} {
		if err := p.SetLoad(load); err == nil {
			t.Errorf("SetLoad(%v) returned no error", load)
		}
	}
}

func nanValue() float64 { zero := 0.0; return zero / zero }

func infValue() float64 { zero := 0.0; return 1 / zero }

func waitModels(t *testing.T, pools []*Pool, node string, want map[string]ModelState) {
	t.Helper()
	waitFor(t, func() string {
		for _, p := range pools {
			i := slices.IndexFunc(p.Members(), func(m Member) bool { return m.Name == node })
			if i < 0 {
				return fmt.Sprintf("%s does not see %s", p.LocalName(), node)
			}
			m := p.Members()[i]
			if diff := cmp.Diff(want, m.Models); diff != "" || !m.ModelsSynced {
				return fmt.Sprintf("%s sees models of %s synced %v (-want +got):\n%s", p.LocalName(), node, m.ModelsSynced, diff)
			}
		}
		return ""
	})
}

// noPushPull leaves only broadcasts and direct sends to carry model sets
// after the join, so the tests below check those paths alone.
func noPushPull(c *Config) { c.PushPullInterval = time.Hour }

func TestModelSetPropagates(t *testing.T) {
	pools := startPool(t, 3, noPushPull)

	first := map[string]ModelState{"model-a": ModelWarming}
	if err := pools[0].SetModels(first); err != nil {
		t.Fatal(err)
	}
	waitModels(t, pools, "node-0", first)

	second := map[string]ModelState{"model-a": ModelReady, "model-b": ModelWarming}
	if err := pools[0].SetModels(second); err != nil {
		t.Fatal(err)
	}
	waitModels(t, pools, "node-0", second)
	if got := pools[2].Members()[0].ModelsVersion; got != 2 {
		t.Errorf("ModelsVersion = %d, want 2", got)
	}
}

func TestLargeModelSetPropagates(t *testing.T) {
	pools := startPool(t, 3, noPushPull)

	large := map[string]ModelState{}
	for i := range 40 {
		large[fmt.Sprintf("%s-%03d", strings.Repeat("m", 60), i)] = ModelReady
	}
	if size := len(encodeModelSetMsg(modelSet{Node: "node-1", Models: large})); size <= maxBroadcastSize {
		t.Fatalf("test set encodes to %d bytes, want more than %d to take the TCP path", size, maxBroadcastSize)
	}
	if err := pools[1].SetModels(large); err != nil {
		t.Fatal(err)
	}
	waitModels(t, pools, "node-1", large)
}

func TestJoinerReceivesModelSets(t *testing.T) {
	pools := startPool(t, 2, noPushPull)
	models := map[string]ModelState{"model-a": ModelReady}
	if err := pools[0].SetModels(models); err != nil {
		t.Fatal(err)
	}
	waitModels(t, pools, "node-0", models)
	waitFor(t, func() string {
		for _, p := range pools {
			if n := p.queue.NumQueued(); n > 0 {
				return fmt.Sprintf("%s still has %d broadcasts queued", p.LocalName(), n)
			}
		}
		return ""
	})

	// The broadcasts are over, so the new node can only learn the set from
	// the state exchanged when it joins.
	cfg := testConfig("node-2", "us-central1", pools[1].Addr())
	noPushPull(&cfg)
	late := startNode(t, cfg)
	waitModels(t, []*Pool{late}, "node-0", models)
}

func TestSetModelsCopiesMap(t *testing.T) {
	p := startNode(t, testConfig("node-0", "us-central1"))
	models := map[string]ModelState{"model-a": ModelReady}
	if err := p.SetModels(models); err != nil {
		t.Fatal(err)
	}
	models["model-b"] = ModelReady
	if got := p.Members()[0].Models; len(got) != 1 {
		t.Errorf("local models = %v, want only model-a", got)
	}
	if err := p.SetModels(map[string]ModelState{"model-a": "bogus"}); err == nil {
		t.Error("SetModels with an invalid state returned no error")
	}
}

func TestNodesWithModelOrder(t *testing.T) {
	pools := startPool(t, 4)
	setups := []struct {
		load  float64
		state ModelState
	}{
		{0.9, ModelReady},
		{0.1, ModelReady},
		{0.0, ModelWarming},
		{0.5, ModelReady},
	}
	for i, s := range setups {
		if err := pools[i].SetLoad(s.load); err != nil {
			t.Fatal(err)
		}
		if err := pools[i].SetModels(map[string]ModelState{"yolo11n": s.state, "other": ModelReady}); err != nil {
			t.Fatal(err)
		}
	}

	want := []string{"node-1", "node-3", "node-0"}
	waitFor(t, func() string {
		for _, p := range pools {
			got := memberNames(p.NodesWithModel("yolo11n"))
			if !slices.Equal(got, want) {
				return fmt.Sprintf("%s: NodesWithModel = %v, want %v", p.LocalName(), got, want)
			}
		}
		return ""
	})
	if got := pools[0].NodesWithModel("missing"); len(got) != 0 {
		t.Errorf("NodesWithModel(missing) = %v, want none", memberNames(got))
	}
}

// waitEvent reads ch until an event of type typ for node arrives.
func waitEvent(t *testing.T, ch <-chan Event, typ EventType, node string) {
	t.Helper()
	timeout := time.After(convergeTimeout)
	for {
		select {
		case e, ok := <-ch:
			if !ok {
				t.Fatalf("event channel closed before %s of %s", typ, node)
			}
			if e.Type == typ && e.Member.Name == node {
				return
			}
		case <-timeout:
			t.Fatalf("no %s event for %s within %v", typ, node, convergeTimeout)
		}
	}
}

func TestKilledNodeDropsOut(t *testing.T) {
	pools := startPool(t, 3)
	events := pools[0].Subscribe()

	if err := pools[2].Shutdown(); err != nil {
		t.Fatal(err)
	}
	waitMembers(t, pools[:2], "node-0", "node-1")
	waitEvent(t, events, EventLeave, "node-2")
}

func TestLeaveSeen(t *testing.T) {
	pools := startPool(t, 3)
	events := pools[0].Subscribe()

	if err := pools[1].Leave(time.Second); err != nil {
		t.Fatal(err)
	}
	waitMembers(t, []*Pool{pools[0], pools[2]}, "node-0", "node-2")
	waitEvent(t, events, EventLeave, "node-1")

	if err := pools[1].Shutdown(); err != nil {
		t.Fatal(err)
	}
	if err := pools[1].Leave(time.Second); !errors.Is(err, ErrShutdown) {
		t.Errorf("Leave after Shutdown = %v, want ErrShutdown", err)
	}
	if err := pools[1].SetLoad(1); !errors.Is(err, ErrShutdown) {
		t.Errorf("SetLoad after Shutdown = %v, want ErrShutdown", err)
	}
}

func TestJoinEvent(t *testing.T) {
	first := startNode(t, testConfig("node-0", "us-central1"))
	events := first.Subscribe()
	startNode(t, testConfig("node-1", "us-central1", first.Addr()))
	waitEvent(t, events, EventJoin, "node-1")
}

func TestOtherRegionRejected(t *testing.T) {
	pools := startPool(t, 2)

	cfg := testConfig("intruder", "europe-west3", pools[0].Addr())
	p, err := Start(cfg)
	if err == nil {
		p.Shutdown()
		t.Fatal("a node of europe-west3 joined a us-central1 pool")
	}
	if !strings.Contains(err.Error(), "europe-west3") {
		t.Errorf("Start error = %q, want it to name the other region", err)
	}
	for _, p := range pools {
		if got := memberNames(p.Members()); !slices.Equal(got, []string{"node-0", "node-1"}) {
			t.Errorf("%s sees %v after the rejected join", p.LocalName(), got)
		}
	}
}

func TestStartSeedsUnreachable(t *testing.T) {
	// A port that was free a moment ago has no listener, so the join fails
	// with a refused connection rather than a timeout.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	p, err := Start(testConfig("node-0", "us-central1", addr))
	if err == nil {
		p.Shutdown()
		t.Fatal("Start with an unreachable seed returned no error")
	}
}

func TestShutdownStopsGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()

	first, err := Start(testConfig("node-0", "us-central1"))
	if err != nil {
		t.Fatal(err)
	}
	second, err := Start(testConfig("node-1", "us-central1", first.Addr()))
	if err != nil {
		first.Shutdown()
		t.Fatal(err)
	}
	events := second.Subscribe()
	if err := first.SetModels(map[string]ModelState{"m": ModelReady}); err != nil {
		t.Error(err)
	}
	waitModels(t, []*Pool{first, second}, "node-0", map[string]ModelState{"m": ModelReady})

	for _, p := range []*Pool{second, first} {
		if err := p.Shutdown(); err != nil {
			t.Error(err)
		}
	}
	for range events {
		// Drain until Shutdown closes the channel.
	}

	// Tolerate a few goroutines that the runtime or the test framework
	// start meanwhile.
	const tolerance = 3
	waitFor(t, func() string {
		if n := runtime.NumGoroutine(); n > before+tolerance {
			return fmt.Sprintf("%d goroutines after shutdown, %d before", n, before)
		}
		return ""
	})
}
