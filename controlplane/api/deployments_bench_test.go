package api

import (
	"bytes"
	"crypto/rand"
	"log/slog"
	"mime/multipart"
	"net"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/controlplane/state"
	"github.com/yoloplane/yoloplane/shared/httpserver"
)

// hopBodySize is about the size of the bus.jpg test image, so that the
// benchmark copies as many bytes per request as a real predict.
const hopBodySize = 135 << 10

// startBenchNode serves every request on loopback TCP, with the server
// settings of a real node, and responds with a fixed JSON body of about a
// detection response's size after reading the request body. It returns
// its address.
func startBenchNode(b *testing.B) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	reply := bytes.Repeat([]byte(`{"class":"person","confidence":0.9},`), 60)
	handler := func(ctx *fasthttp.RequestCtx) {
		if len(ctx.PostBody()) < hopBodySize {
			ctx.SetStatusCode(fasthttp.StatusBadRequest)
			return
		}
		ctx.SetContentType("application/json")
		ctx.SetBody(reply)
	}
	srv := httpserver.New(handler, httpserver.Config{MaxBody: DefaultConfig().MaxBody}, slog.New(slog.DiscardHandler))
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Shutdown() })
	return ln.Addr().String()
}

// serveAPI serves e's API on loopback TCP with the server settings the
// binaries use and returns its address.
func serveAPI(b *testing.B, e *env) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := e.srv.FastHTTPServer()
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Shutdown() })
	return ln.Addr().String()
}

// BenchmarkDeploymentPredictHop measures one predict sent straight to a
// node and one sent through the control plane's deployment route. The
// difference of the two is the cost of the routing hop.
func BenchmarkDeploymentPredictHop(b *testing.B) {
	e := newEnv(b)
	e.addUser("ada")
	nodeAddr := startBenchNode(b)
	e.srv.SetFleet(&fakeFleet{addr: nodeAddr, ready: true})
	m := e.addDeployableModel("ada")
	res := e.do("ada", "POST", "/api/deployments", `{"modelId":"`+m.ID+`","region":"us-central1"}`)
	if res.status != fasthttp.StatusCreated {
		b.Fatalf("create deployment: status %d: %s", res.status, res.body)
	}
	id := res.json(b)["id"].(string)
	e.must(&state.PlaceDeployment{DeploymentID: id, Revision: 1, Nodes: []string{"n1"}, Status: state.DeploymentReady, UpdatedAt: e.clock()})
	apiAddr := serveAPI(b, e)

	body, contentType := hopBody(b)
	for _, bc := range []struct{ name, addr string }{{"direct", nodeAddr}, {"proxied", apiAddr}} {
		b.Run(bc.name, func(b *testing.B) {
			client := &fasthttp.HostClient{Addr: bc.addr}
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			req.Header.SetMethod(fasthttp.MethodPost)
			req.SetRequestURI("http://" + bc.addr + "/api/deployments/" + id + "/predict")
			req.Header.Set(fasthttp.HeaderAuthorization, "Bearer "+e.keys["ada"])
			req.Header.SetContentType(contentType)
			req.SetBodyRaw(body)
			b.SetBytes(hopBodySize)
			for b.Loop() {
				if err := client.Do(req, resp); err != nil {
					b.Fatal(err)
				}
				if resp.StatusCode() != fasthttp.StatusOK {
					b.Fatalf("status %d: %s", resp.StatusCode(), resp.Body())
				}
			}
		})
	}
}

// hopBody returns a multipart body with one file part of hopBodySize
// random bytes, and its content type.
func hopBody(b *testing.B) ([]byte, string) {
	b.Helper()
	image := make([]byte, hopBodySize)
	_, _ = rand.Read(image)
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	part, err := w.CreateFormFile("file", "image.jpg")
	if err != nil {
		b.Fatal(err)
	}
	_, _ = part.Write(image)
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes(), w.FormDataContentType()
}
