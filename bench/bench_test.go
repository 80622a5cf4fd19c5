package bench

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// BenchmarkRequestOverhead sends requests from one worker to a loopback
// server that responds at once without parsing the body, so ns/op is the
// cost of the harness plus loopback TCP and fasthttp's own server path.
func BenchmarkRequestOverhead(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &fasthttp.Server{DisablePreParseMultipartForm: true, Handler: func(ctx *fasthttp.RequestCtx) {
		ctx.Response.Header.Set("Server-Timing", "decode;dur=1.5, inference;dur=10, total;dur=12")
		ctx.SetBodyString(`{"success": true}`)
	}}
	go srv.Serve(ln)
	defer srv.Shutdown()

	cfg := Config{URL: "http://" + ln.Addr().String() + "/predict", FileBytes: testImage, APIKey: testKey}.withDefaults()
	body, contentType, err := buildBody(cfg)
	if err != nil {
		b.Fatal(err)
	}
	client, _, err := newClient(cfg)
	if err != nil {
		b.Fatal(err)
	}
	st := newWorkerStats(latencyCapacity)
	w := newHTTPWorker(context.Background(), client, cfg, body, contentType, st)

	b.ReportAllocs()
	for b.Loop() {
		w.do(time.Now())
	}
	b.StopTimer()
	if got := st.failures.Load(); got != 0 {
		b.Fatalf("%d requests failed: %v", got, st.errors)
	}
}
