package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// maxResponseBody bounds each response body that the client reads. Predict
// responses are JSON of at most a few hundred kilobytes, so a larger body
// means a misdirected URL, and it is reported as an error.
const maxResponseBody = 16 << 20

// errorBodyPrefix is how much of a non-2xx body goes into the error sample,
// enough for a JSON error message.
const errorBodyPrefix = 120

// Run sends multipart/form-data POST requests with cfg's image in the "file"
// field to cfg.URL until cfg.Duration has passed, and reports what happened.
// Requests still in flight at the end complete before Run returns.
//
// When ctx is cancelled, Run closes its connections, which aborts the
// requests in flight, and returns the report of the requests that completed
// together with ctx.Err(). Other errors come from an invalid cfg or an
// unreadable image, and the report is then empty.
func Run(ctx context.Context, cfg Config) (Report, error) {
	if err := cfg.Validate(); err != nil {
		return Report{}, err
	}
	cfg = cfg.withDefaults()
	body, contentType, err := buildBody(cfg)
	if err != nil {
		return Report{}, err
	}
	client, conns, err := newClient(cfg)
	if err != nil {
		return Report{}, err
	}
	stopAbort := context.AfterFunc(ctx, conns.closeAll)
	defer stopAbort()
	defer client.CloseIdleConnections()

	newTask := func(st *workerStats) task {
		w := newHTTPWorker(ctx, client, cfg, body, contentType, st)
		return w.do
	}
	lc := loopConfig{concurrency: cfg.Concurrency, duration: cfg.Duration, rate: cfg.Rate, progress: cfg.Progress}
	rep := runLoop(ctx, lc, newTask)
	return rep, ctx.Err()
}

func newClient(cfg Config) (*fasthttp.HostClient, *connTracker, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, nil, fmt.Errorf("parse URL %q: %w", cfg.URL, err)
	}
	isTLS := u.Scheme == "https"
	port := u.Port()
	if port == "" {
		port = "80"
		if isTLS {
			port = "443"
		}
	}
	conns := &connTracker{timeout: cfg.Timeout, conns: make(map[net.Conn]struct{})}
	client := &fasthttp.HostClient{
		Addr:     net.JoinHostPort(u.Hostname(), port),
		IsTLS:    isTLS,
		Dial:     conns.dial,
		MaxConns: cfg.Concurrency,
		// A connection closed by the server frees its slot a moment after
		// the request returns, so a worker may briefly find none free.
		MaxConnWaitTimeout:        cfg.Timeout,
		MaxIdemponentCallAttempts: 1,
		MaxResponseBodySize:       maxResponseBody,
		NoDefaultUserAgentHeader:  true,
	}
	return client, conns, nil
}

// connTracker dials connections and remembers them, so that cancelling a run
// can close them and abort requests that fasthttp would otherwise wait out
// until their timeout.
type connTracker struct {
	timeout time.Duration

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

var errRunCancelled = errors.New("run cancelled")

func (ct *connTracker) dial(addr string) (net.Conn, error) {
	conn, err := fasthttp.DialTimeout(addr, ct.timeout)
	if err != nil {
		return nil, err
	}
	ct.mu.Lock()
	defer ct.mu.Unlock()
	if ct.closed {
		conn.Close()
		return nil, errRunCancelled
	}
	ct.conns[conn] = struct{}{}
	return &trackedConn{Conn: conn, tracker: ct}, nil
}

func (ct *connTracker) closeAll() {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	ct.closed = true
	for conn := range ct.conns {
		conn.Close()
	}
	clear(ct.conns)
}

// trackedConn removes itself from its tracker when fasthttp closes it, so the
// tracker holds only open connections.
type trackedConn struct {
	net.Conn
	tracker *connTracker
	once    sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.tracker.mu.Lock()
		delete(c.tracker.conns, c.Conn)
		c.tracker.mu.Unlock()
	})
	return c.Conn.Close()
}

// httpWorker owns one request and response that it reuses for every call.
type httpWorker struct {
	ctx     context.Context
	client  *fasthttp.HostClient
	timeout time.Duration
	req     *fasthttp.Request
	resp    *fasthttp.Response
	st      *workerStats
	// addStage is st.addStage bound once, because binding a method value
	// per response would allocate.
	addStage func(name []byte, d time.Duration)
}

func newHTTPWorker(ctx context.Context, client *fasthttp.HostClient, cfg Config, body []byte, contentType string, st *workerStats) *httpWorker {
	req := new(fasthttp.Request)
	req.SetRequestURI(cfg.URL)
	req.Header.SetMethod(fasthttp.MethodPost)
	req.Header.SetContentType(contentType)
	req.Header.SetUserAgent("yoloplane-bench")
	if cfg.APIKey != "" {
		req.Header.Set(fasthttp.HeaderAuthorization, "Bearer "+cfg.APIKey)
	}
	// SetBodyRaw shares body without copying. No worker writes to it.
	req.SetBodyRaw(body)
	return &httpWorker{
		ctx: ctx, client: client, timeout: cfg.Timeout,
		req: req, resp: new(fasthttp.Response),
		st: st, addStage: st.addStage,
	}
}

func (w *httpWorker) do(start time.Time) {
	err := w.client.DoTimeout(w.req, w.resp, w.timeout)
	latency := time.Since(start)
	if err != nil {
		// A request aborted by cancelling the run reveals nothing about the
		// server, so it is not counted.
		if w.ctx.Err() == nil {
			w.st.failure(err.Error())
		}
		return
	}

	code := w.resp.StatusCode()
	w.st.statuses[code]++
	if code < 200 || code > 299 {
		w.st.failure(statusError(code, w.resp.Body()))
		return
	}
	w.st.success(latency)
	parseServerTiming(w.resp.Header.Peek("Server-Timing"), w.addStage)
}

// statusError turns a non-2xx response into an error sample: the status and
// the start of the body on one line.
func statusError(code int, body []byte) string {
	if len(body) > errorBodyPrefix {
		body = body[:errorBodyPrefix]
	}
	body = bytes.Join(bytes.Fields(body), []byte{' '})
	if len(body) == 0 {
		return fmt.Sprintf("HTTP %d", code)
	}
	return fmt.Sprintf("HTTP %d: %s", code, body)
}
