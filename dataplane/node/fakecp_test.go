package node

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/shared/wire"
)

const testSecret = "test-cluster-secret"

// fakeControlPlane serves the five fleet routes from a FleetState the test
// controls. It holds a watch open for at most watchWait, far less than
// WatchWaitSeconds, so that tests do not wait on it.
type fakeControlPlane struct {
	t         *testing.T
	watchWait time.Duration

	mu         sync.Mutex
	state      wire.FleetState
	changed    chan struct{} // closed on every state change
	blobs      map[string][]byte
	heartbeats []wire.Heartbeat
	usage      map[string]wire.Usage // by deployment ID + "/" + key ID
	// quotaLeft is the remaining quota per key ID; a key without an entry
	// has unlimited quota.
	quotaLeft  map[string]int
	quotaCalls int

	done     chan struct{}
	stopOnce sync.Once
	server   *fasthttp.Server
	url      string
}

func startFakeControlPlane(t *testing.T) *fakeControlPlane {
	t.Helper()
	f := &fakeControlPlane{
		t:         t,
		watchWait: time.Second,
		changed:   make(chan struct{}),
		blobs:     make(map[string][]byte),
		usage:     make(map[string]wire.Usage),
		quotaLeft: make(map[string]int),
		done:      make(chan struct{}),
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.url = "http://" + ln.Addr().String()
	f.server = &fasthttp.Server{Handler: f.handle}
	go f.server.Serve(ln)
	t.Cleanup(f.stop)
	return f
}

// stop ends the server; held watches return at once.
func (f *fakeControlPlane) stop() {
	f.stopOnce.Do(func() {
		close(f.done)
		if err := f.server.Shutdown(); err != nil {
			f.t.Errorf("stop fake control plane: %v", err)
		}
	})
}

// addBlob makes the file at path downloadable and returns its model ref.
func (f *fakeControlPlane) addBlob(path, modelID string) wire.ModelRef {
	f.t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		f.t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	sha := hex.EncodeToString(sum[:])
	f.mu.Lock()
	f.blobs[sha] = b
	f.mu.Unlock()
	return wire.ModelRef{ModelID: modelID, Name: modelID, SHA256: sha, Size: int64(len(b))}
}

// update changes the state and bumps its version.
func (f *fakeControlPlane) update(change func(*wire.FleetState)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(&f.state)
	f.state.Version++
	close(f.changed)
	f.changed = make(chan struct{})
}

func (f *fakeControlPlane) handle(ctx *fasthttp.RequestCtx) {
	if string(ctx.Request.Header.Peek(wire.HeaderSecret)) != testSecret {
		ctx.Error(`{"error":"bad secret"}`, http.StatusForbidden)
		return
	}
	path := string(ctx.Path())
	switch {
	case path == wire.PathWatch:
		f.serveWatch(ctx)
	case path == wire.PathHeartbeat:
		var hb wire.Heartbeat
		f.decode(ctx, &hb)
		f.mu.Lock()
		f.heartbeats = append(f.heartbeats, hb)
		f.reply(ctx, wire.HeartbeatReply{Version: f.state.Version})
		f.mu.Unlock()
	case strings.HasPrefix(path, wire.PathBlobs):
		f.mu.Lock()
		b, ok := f.blobs[strings.TrimPrefix(path, wire.PathBlobs)]
		f.mu.Unlock()
		if !ok {
			ctx.Error(`{"error":"blob not found"}`, http.StatusNotFound)
			return
		}
		ctx.SetBody(b)
	case path == wire.PathUsage:
		var batch wire.UsageBatch
		f.decode(ctx, &batch)
		f.mu.Lock()
		for _, e := range batch.Entries {
			k := e.DeploymentID + "/" + e.KeyID
			u := f.usage[k]
			u.DeploymentID, u.KeyID = e.DeploymentID, e.KeyID
			u.Requests += e.Requests
			u.Errors += e.Errors
			f.usage[k] = u
		}
		f.mu.Unlock()
	case path == wire.PathQuota:
		var req wire.QuotaRequest
		f.decode(ctx, &req)
		f.mu.Lock()
		f.reply(ctx, f.grantLocked(req))
		f.mu.Unlock()
	default:
		ctx.Error(`{"error":"no route"}`, http.StatusNotFound)
	}
}

func (f *fakeControlPlane) grantLocked(req wire.QuotaRequest) wire.QuotaGrant {
	f.quotaCalls++
	reset := time.Now().Add(time.Minute).Unix()
	left, limited := f.quotaLeft[req.KeyID]
	if !limited {
		return wire.QuotaGrant{Granted: req.Want, Limit: 1000, Remaining: 1000, ResetUnix: reset}
	}
	granted := min(left, req.Want)
	f.quotaLeft[req.KeyID] = left - granted
	g := wire.QuotaGrant{Granted: granted, Limit: 60, Remaining: left - granted, ResetUnix: reset}
	if granted == 0 {
		g.RetryAfterSeconds = 42
	}
	return g
}

func (f *fakeControlPlane) serveWatch(ctx *fasthttp.RequestCtx) {
	since, _ := strconv.ParseUint(string(ctx.QueryArgs().Peek("since")), 10, 64)
	timeout := time.After(f.watchWait)
	for {
		f.mu.Lock()
		st, changed := f.state, f.changed
		f.mu.Unlock()
		if st.Version > since {
			f.reply(ctx, st)
			return
		}
		select {
		case <-changed:
		case <-timeout:
			ctx.SetStatusCode(http.StatusNotModified)
			return
		case <-f.done:
			ctx.SetStatusCode(http.StatusServiceUnavailable)
			return
		}
	}
}

func (f *fakeControlPlane) decode(ctx *fasthttp.RequestCtx, v any) {
	if err := json.Unmarshal(ctx.PostBody(), v); err != nil {
		f.t.Errorf("fake control plane: decode %s: %v", ctx.Path(), err)
	}
}

func (f *fakeControlPlane) reply(ctx *fasthttp.RequestCtx, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		f.t.Errorf("fake control plane: encode: %v", err)
	}
	ctx.SetContentType("application/json")
	ctx.SetBody(b)
}

func (f *fakeControlPlane) lastHeartbeat() (wire.Heartbeat, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.heartbeats) == 0 {
		return wire.Heartbeat{}, false
	}
	return f.heartbeats[len(f.heartbeats)-1], true
}

func (f *fakeControlPlane) usageOf(deploymentID, keyID string) wire.Usage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.usage[deploymentID+"/"+keyID]
}
