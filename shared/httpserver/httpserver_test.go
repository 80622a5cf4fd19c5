package httpserver

import (
	"bufio"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// TestReadBodyStreamed sends each body in two writes, so that the server
// streams it, and checks that ReadBody returns the whole body, keeps it for
// PostBody, rejects one over the limit with 413, and logs no warning.
func TestReadBodyStreamed(t *testing.T) {
	var logged strings.Builder
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(lockedWriter{&mu, &logged}, nil))
	srv := New(func(ctx *fasthttp.RequestCtx) {
		body, e := ReadBody(ctx, 64)
		if e != nil {
			ctx.SetStatusCode(e.Status)
			return
		}
		if string(ctx.PostBody()) != string(body) {
			ctx.SetStatusCode(fasthttp.StatusInternalServerError)
			return
		}
		ctx.SetBody(body)
	}, Config{MaxBody: 1 << 20}, log)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Shutdown()

	for _, tc := range []struct {
		body   string
		status int
	}{
		{strings.Repeat("a", 40), fasthttp.StatusOK},
		{strings.Repeat("b", 64), fasthttp.StatusOK},
		{strings.Repeat("c", 65), fasthttp.StatusRequestEntityTooLarge},
	} {
		status, got := postInTwoWrites(t, ln.Addr().String(), tc.body)
		if status != tc.status {
			t.Errorf("body of %d bytes: status %d, want %d", len(tc.body), status, tc.status)
		}
		if status == fasthttp.StatusOK && got != tc.body {
			t.Errorf("body of %d bytes came back as %q", len(tc.body), got)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if logged.Len() != 0 {
		t.Errorf("server logged:\n%s", logged.String())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// postInTwoWrites sends the headers, waits, then sends the body, and
// returns the response status and body.
func postInTwoWrites(t *testing.T, addr, body string) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", len(body))
	time.Sleep(20 * time.Millisecond)
	conn.Write([]byte(body))
	var resp fasthttp.Response
	if err := resp.Read(bufio.NewReader(conn)); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode(), string(resp.Body())
}
