package bench

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// testImage is a fake JPEG. Only its first bytes matter to content
// sniffing.
var testImage = append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte{0x42}, 2000)...)

const testKey = "ul_0123456789abcdef0123456789abcdef01234567"

// predictServer is a loopback predict endpoint that checks each request as
// a real server would and responds in a way the test chooses.
type predictServer struct {
	url string

	// failEvery makes every failEvery-th request (1-based) fail with status 500.
	failEvery int64
	// delay is slept before responding.
	delay time.Duration
	// serverTiming, when set, goes out on 2xx responses.
	serverTiming string
	// block, when set, makes the handler wait until it is closed, after
	// sending on arrived.
	block   chan struct{}
	arrived chan struct{}

	requests atomic.Int64
	failed   atomic.Int64

	mu       sync.Mutex
	problems []string
}

func (s *predictServer) problem(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.problems = append(s.problems, fmt.Sprintf(format, args...))
}

func (s *predictServer) handle(ctx *fasthttp.RequestCtx) {
	n := s.requests.Add(1)
	s.check(ctx)
	if s.block != nil {
		select {
		case s.arrived <- struct{}{}:
		default:
		}
		<-s.block
	}
	if s.delay > 0 {
		time.Sleep(s.delay)
	}
	if s.failEvery > 0 && n%s.failEvery == 0 {
		s.failed.Add(1)
		ctx.SetStatusCode(fasthttp.StatusInternalServerError)
		ctx.SetBodyString(`{"error": "inference failed"}`)
		return
	}
	if s.serverTiming != "" {
		ctx.Response.Header.Set("Server-Timing", s.serverTiming)
	}
	ctx.SetBodyString(`{"success": true, "predictions": []}`)
}

func (s *predictServer) check(ctx *fasthttp.RequestCtx) {
	if got := string(ctx.Method()); got != "POST" {
		s.problem("method %s, want POST", got)
	}
	if got := string(ctx.Request.Header.Peek("Authorization")); got != "Bearer "+testKey {
		s.problem("Authorization %q, want Bearer key", got)
	}

	form, err := ctx.MultipartForm()
	if err != nil {
		s.problem("parse multipart form: %v", err)
		return
	}
	files := form.File["file"]
	if len(files) != 1 {
		s.problem("got %d file parts, want 1", len(files))
		return
	}

	if files[0].Filename != "bus.jpg" {
		s.problem("filename %q, want bus.jpg", files[0].Filename)
	}
	if got := files[0].Header.Get("Content-Type"); got != "image/jpeg" {
		s.problem("file Content-Type %q, want image/jpeg", got)
	}

	f, err := files[0].Open()
	if err != nil {
		s.problem("open file part: %v", err)
		return
	}
	defer f.Close()
	data, _ := io.ReadAll(f)
	if !bytes.Equal(data, testImage) {
		s.problem("file part has %d bytes, want the %d image bytes", len(data), len(testImage))
	}

	if got := form.Value["conf"]; len(got) != 1 || got[0] != "0.25" {
		s.problem("conf field %q, want [0.25]", got)
	}
}

// startServer serves s on a loopback port until the test ends, and fails
// the test if any request was malformed.
func startServer(t *testing.T, s *predictServer) *predictServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: s.handle}
	go srv.Serve(ln)
	s.url = "http://" + ln.Addr().String() + "/api/models/0123456789abcdef01234567/predict"
	t.Cleanup(func() {
		if s.block != nil {
			close(s.block)
		}
		srv.Shutdown()
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, p := range s.problems {
			t.Errorf("server saw a malformed request: %s", p)
		}
	})
	return s
}

func testConfig(s *predictServer) Config {
	return Config{
		URL:         s.url,
		File:        "images/bus.jpg",
		FileBytes:   testImage,
		APIKey:      testKey,
		Concurrency: 2,
		Duration:    300 * time.Millisecond,
		Fields:      map[string]string{"conf": "0.25"},
		Timeout:     5 * time.Second,
	}
}
