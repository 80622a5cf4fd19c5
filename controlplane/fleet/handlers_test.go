package fleet

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/shared/wire"
)

func serve(h fasthttp.RequestHandler, method, uri, secret, body string) *fasthttp.Response {
	var req fasthttp.Request
	req.Header.SetMethod(method)
	req.SetRequestURI(uri)
	if secret != "" {
		req.Header.Set(wire.HeaderSecret, secret)
	}
	req.SetBodyString(body)
	var ctx fasthttp.RequestCtx
	ctx.Init(&req, nil, nil)
	h(&ctx)
	var resp fasthttp.Response
	ctx.Response.CopyTo(&resp)
	return &resp
}

func TestFleetRoutes(t *testing.T) {
	h := newHarness(t)
	secret := strings.Repeat("s", 32)
	next := func(ctx *fasthttp.RequestCtx) { ctx.SetStatusCode(fasthttp.StatusTeapot) }
	handler := h.svc.Wrap(next)

	if got := serve(handler, "GET", "/api/models", "", "").StatusCode(); got != fasthttp.StatusTeapot {
		t.Errorf("other route: status %d, want it passed on", got)
	}
	if got := serve(handler, "GET", wire.PathWatch, "wrong", "").StatusCode(); got != fasthttp.StatusForbidden {
		t.Errorf("watch with a wrong secret: status %d, want 403", got)
	}
	hb := `{"nodeId":"a","region":"us-central1","httpAddr":"127.0.0.1:9","capacity":2}`
	resp := serve(handler, "POST", wire.PathHeartbeat, secret, hb)
	if resp.StatusCode() != fasthttp.StatusOK {
		t.Fatalf("heartbeat: status %d: %s", resp.StatusCode(), resp.Body())
	}
	if n := h.svc.Nodes(); len(n) != 1 || n[0].ID != "a" || !n[0].Live {
		t.Errorf("registry after a heartbeat = %+v, want live node a", n)
	}
	resp = serve(handler, "GET", wire.PathWatch+"?since=0", secret, "")
	var st wire.FleetState
	if err := json.Unmarshal(resp.Body(), &st); err != nil || st.Version == 0 {
		t.Errorf("watch since 0 = %s, %v; want a state with a version", resp.Body(), err)
	}
	if got := serve(handler, "GET", wire.PathBlobs+strings.Repeat("0", 64), secret, "").StatusCode(); got != fasthttp.StatusNotFound {
		t.Errorf("missing blob: status %d, want 404", got)
	}
	serve(handler, "POST", wire.PathUsage, secret, `{"nodeId":"a","entries":[{"deploymentId":"d","keyId":"k","requests":3,"errors":1}]}`)
	if u := h.svc.Usage("d"); u.Requests != 3 || u.Errors != 1 {
		t.Errorf("usage = %+v, want 3 requests and 1 error", u)
	}
}

func TestWatchFiltersByRegion(t *testing.T) {
	h := newHarness(t)
	h.create(10, "us-one", "us-central1")
	h.create(11, "eu-one", "europe-west1")
	h.create(12, "us-two", "us-central1")
	h.svc.refresh()
	handler := h.svc.Wrap(nil)
	secret := strings.Repeat("s", 32)

	cases := []struct {
		query string
		want  []string
	}{
		{"?since=0&" + wire.QueryRegion + "=us-central1", []string{"us-one", "us-two"}},
		{"?since=0&" + wire.QueryRegion + "=europe-west1", []string{"eu-one"}},
		{"?since=0&" + wire.QueryRegion + "=asia-east1", nil},
		{"?since=0", []string{"us-one", "eu-one", "us-two"}},
	}
	for _, c := range cases {
		resp := serve(handler, "GET", wire.PathWatch+c.query, secret, "")
		if resp.StatusCode() != fasthttp.StatusOK {
			t.Fatalf("watch %s: status %d: %s", c.query, resp.StatusCode(), resp.Body())
		}
		var st wire.FleetState
		if err := json.Unmarshal(resp.Body(), &st); err != nil {
			t.Fatalf("watch %s: %v: %s", c.query, err, resp.Body())
		}
		var got []string
		for _, d := range st.Deployments {
			got = append(got, d.Name)
		}
		slices.Sort(got)
		want := slices.Clone(c.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("watch %s returned deployments %v, want %v", c.query, got, want)
		}
		if st.Version != h.svc.Current().Version {
			t.Errorf("watch %s returned version %d, want the whole state's %d", c.query, st.Version, h.svc.Current().Version)
		}
	}
}
