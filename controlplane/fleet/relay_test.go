package fleet

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/shared/wire"
)

// servePeer serves h on a loopback port until the test ends and returns
// its base URL. It sends the relay header of every request it handled on the returned channel.
func servePeer(t *testing.T, h fasthttp.RequestHandler) (string, <-chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	seen := make(chan string, 16)
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		h(ctx)
		seen <- string(ctx.Request.Header.Peek(headerRelayed))
	}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		_ = srv.Shutdown()
		<-done
	})
	return "http://" + ln.Addr().String(), seen
}

func TestHeartbeatRelayedToPeer(t *testing.T) {
	follower, leader := newHarness(t), newHarness(t)
	secret := strings.Repeat("s", 32)
	leaderURL, seen := servePeer(t, leader.svc.Wrap(nil))
	follower.svc.SetPeers(func() []string { return []string{leaderURL} })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go follower.svc.runRelay(ctx)

	hb := `{"nodeId":"a","region":"us-central1","httpAddr":"127.0.0.1:9","capacity":2}`
	handler := follower.svc.Wrap(nil)
	if resp := serve(handler, "POST", wire.PathHeartbeat, secret, hb); resp.StatusCode() != fasthttp.StatusOK {
		t.Fatalf("heartbeat on the follower: status %d: %s", resp.StatusCode(), resp.Body())
	}
	select {
	case relayed := <-seen:
		if relayed == "" {
			t.Errorf("relayed heartbeat has no %s header", headerRelayed)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the leader received no relayed heartbeat within 10 s")
	}
	n := leader.svc.Nodes()
	if len(n) != 1 || n[0].ID != "a" || n[0].HTTPAddr != "127.0.0.1:9" || !n[0].Live {
		t.Errorf("leader registry after the relay = %+v, want live node a at 127.0.0.1:9", n)
	}
}

func TestRelayedHeartbeatNotRelayedAgain(t *testing.T) {
	h := newHarness(t)
	h.svc.SetPeers(func() []string { return []string{"http://127.0.0.1:9"} })
	req := func(relayed bool) {
		var r fasthttp.Request
		r.Header.SetMethod("POST")
		r.SetRequestURI(wire.PathHeartbeat)
		r.Header.Set(wire.HeaderSecret, strings.Repeat("s", 32))
		if relayed {
			r.Header.Set(headerRelayed, "1")
		}
		r.SetBodyString(`{"nodeId":"a","region":"us-central1","httpAddr":"127.0.0.1:9","capacity":2}`)
		var ctx fasthttp.RequestCtx
		ctx.Init(&r, nil, nil)
		h.svc.Wrap(nil)(&ctx)
		if ctx.Response.StatusCode() != fasthttp.StatusOK {
			t.Fatalf("heartbeat: status %d: %s", ctx.Response.StatusCode(), ctx.Response.Body())
		}
	}

	req(true)
	if n := len(h.svc.Nodes()); n != 1 {
		t.Errorf("registry after a relayed heartbeat has %d nodes, want 1", n)
	}
	if n := len(h.svc.relay.pending); n != 0 {
		t.Errorf("relay queue after a relayed heartbeat has %d entries, want none", n)
	}
	req(false)
	if _, ok := h.svc.relay.pending["a"]; !ok {
		t.Error("a heartbeat straight from the node was not queued for the peers")
	}
}
