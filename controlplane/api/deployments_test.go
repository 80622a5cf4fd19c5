package api

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/controlplane/state"
	"github.com/yoloplane/yoloplane/internal/contract"
	"github.com/yoloplane/yoloplane/shared/ids"
	"github.com/yoloplane/yoloplane/shared/wire"
)

// fakeFleet serves one node address for every deployment placed on node
// "n1" and returns fixed stats.
type fakeFleet struct {
	addr  string
	ready bool
}

func (f *fakeFleet) ServingAddrs(_ string, nodes []string) []string {
	if f.ready && len(nodes) > 0 {
		return []string{f.addr}
	}
	return nil
}

func (f *fakeFleet) NodeAddr(string) (string, bool) { return f.addr, true }

func (f *fakeFleet) ModelAddrs(string) []string { return nil }

func (f *fakeFleet) MarkSuspect(string) {}

func (f *fakeFleet) Secret() string { return strings.Repeat("s", 32) }

func (f *fakeFleet) DeploymentStats(_ context.Context, id string, _ []string) ([]wire.DeploymentStats, error) {
	minute := time.Date(2025, 3, 4, 5, 0, 0, 0, time.UTC).Unix()
	return []wire.DeploymentStats{{
		DeploymentID: id, NodeID: "n1", Requests: 4, Errors: 1, LatenciesMs: []float64{10, 20, 30, 40},
		Series: []wire.MinuteCount{{MinuteUnix: minute, Requests: 4, Errors: 1, P50Ms: 20}},
		Logs: []wire.LogEntry{
			{Time: "2025-03-04T05:00:01Z", Severity: "INFO", Method: "POST", Path: "/p", Status: 200, LatencyMs: 10},
			{Time: "2025-03-04T05:00:02Z", Severity: "ERROR", Method: "POST", Path: "/p", Status: 500, LatencyMs: 40},
		},
	}}, nil
}

// startFakeNode serves every request on loopback and echoes the path, the
// Authorization, cluster secret and key ID headers, and the body length.
func startFakeNode(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		ctx.SetContentType("application/json")
		out, _ := json.Marshal(map[string]any{"success": true, "auth": string(ctx.Request.Header.Peek("Authorization")),
			"secret": string(ctx.Request.Header.Peek(wire.HeaderSecret)), "keyId": string(ctx.Request.Header.Peek(wire.HeaderKeyID)),
			"path": string(ctx.Path()), "bytes": len(ctx.PostBody())})
		ctx.SetBody(out)
	}}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown() })
	return ln.Addr().String()
}

func (e *env) addDeployableModel(owner string) state.Model {
	e.t.Helper()
	ws := e.workspace(owner)
	p := e.must(&state.CreateProject{ProjectID: ids.New(), WorkspaceID: ws.ID, Slug: "proj", Name: "Proj", CreatedAt: e.clock()}).(state.Project)
	return e.must(&state.CreateModel{ModelID: ids.New(), ProjectID: p.ID, Slug: "yolo", Name: "YOLO", Task: "detect",
		Format: state.FormatONNX, FileSHA256: strings.Repeat("a", 64), FileSize: 10, Status: state.ModelStatusReady,
		CreatedAt: e.clock()}).(state.Model)
}

func TestDeploymentSeedRoutes(t *testing.T) {
	e := newEnv(t)
	e.addUser("ada")
	e.addUser("bob")
	fleet := &fakeFleet{addr: startFakeNode(t)}
	e.srv.SetFleet(fleet)
	m := e.addDeployableModel("ada")

	res := e.do("ada", "POST", "/api/deployments", `{"modelId":"`+m.ID+`","region":"mars-north1"}`)
	if res.status != http.StatusBadRequest {
		t.Errorf("create in an unknown region: status %d, want 400", res.status)
	}
	res = e.do("ada", "POST", "/api/deployments", `{"modelId":"`+m.ID+`","region":"europe-west1"}`)
	if res.status != http.StatusCreated {
		t.Fatalf("create: status %d: %s", res.status, res.body)
	}
	id := res.json(t)["id"].(string)
	if got := e.do("bob", "GET", "/api/deployments/"+id, "").status; got != http.StatusNotFound {
		t.Errorf("get by a non-member: status %d, want 404", got)
	}
	list := e.do("ada", "GET", "/api/deployments?status=creating", "").json(t)
	if list["total"].(float64) != 1 {
		t.Errorf("list total = %v, want 1", list["total"])
	}

	res = e.do("ada", "POST", "/api/deployments/"+id+"/predict", "x")
	if res.status != http.StatusServiceUnavailable || len(res.header.Peek("Retry-After")) == 0 {
		t.Errorf("predict before any node is ready: status %d Retry-After %q, want 503 with Retry-After", res.status, res.header.Peek("Retry-After"))
	}
	e.must(&state.PlaceDeployment{DeploymentID: id, Revision: 1, Nodes: []string{"n1"}, Status: state.DeploymentReady, UpdatedAt: e.clock()})
	fleet.ready = true
	res = e.do("ada", "POST", "/api/deployments/"+id+"/predict", "image-bytes")
	if res.status != http.StatusOK {
		t.Fatalf("predict: status %d: %s", res.status, res.body)
	}
	got := res.json(t)
	key, _ := e.fsm.KeyByHash(HashKey(e.keys["ada"]))
	if got["path"] != wire.NodePathDeploymentPredict+id || got["bytes"].(float64) != 11 {
		t.Errorf("node received %v, want the internal predict path of the deployment and 11 bytes", got)
	}
	if got["secret"] != fleet.Secret() || got["keyId"] != key.ID || got["auth"] != "" {
		t.Errorf("node received %v, want the cluster secret and the caller's key ID instead of the key", got)
	}
	view := e.do("ada", "GET", "/api/deployments/"+id, "").json(t)
	if want := "http://" + fleet.addr + "/api/deployments/" + id + "/predict"; view["serviceUrl"] != want {
		t.Errorf("serviceUrl = %v, want %s", view["serviceUrl"], want)
	}

	metrics := e.do("ada", "GET", "/api/deployments/"+id+"/metrics?range=30d", "")
	contract.Validate(t, "DeploymentMetricsResponse", metrics.body)
	sum := metrics.json(t)["summary"].(map[string]any)
	if sum["totalRequests"].(float64) != 4 || sum["errorRate"].(float64) != 0.25 || sum["p95LatencyMs"].(float64) != 40 {
		t.Errorf("summary = %v, want 4 requests, error rate 0.25, p95 40", sum)
	}
	logs := e.do("ada", "GET", "/api/deployments/"+id+"/logs?severity=ERROR&limit=5", "")
	contract.Validate(t, "DeploymentLogsResponse", logs.body)
	if entries := logs.json(t)["entries"].([]any); len(entries) != 1 {
		t.Errorf("ERROR log entries = %d, want 1", len(entries))
	}
	mon := e.do("ada", "GET", "/api/monitoring", "").json(t)
	if mon["totalRequests"].(float64) != 4 || mon["activeDeployments"].(float64) != 1 {
		t.Errorf("monitoring = %v, want 4 requests and 1 active deployment", mon)
	}

	stopped := e.do("ada", "POST", "/api/deployments/"+id+"/stop", "").json(t)
	if stopped["status"] != "stopped" {
		t.Errorf("status after stop = %v, want stopped", stopped["status"])
	}
	if got := e.do("ada", "POST", "/api/deployments/"+id+"/predict", "x").status; got != http.StatusServiceUnavailable {
		t.Errorf("predict on a stopped deployment: status %d, want 503", got)
	}
	started := e.do("ada", "POST", "/api/deployments/"+id+"/start", "").json(t)
	if started["status"] != "deploying" {
		t.Errorf("status after start = %v, want deploying", started["status"])
	}
	if got := e.do("ada", "DELETE", "/api/deployments/"+id, "").status; got != http.StatusOK {
		t.Fatalf("delete: status %d", got)
	}
	if got := e.do("ada", "GET", "/api/deployments/"+id, "").status; got != http.StatusNotFound {
		t.Errorf("get after delete: status %d, want 404", got)
	}
}

func TestDeploymentOwnerRoutes(t *testing.T) {
	e := newEnv(t)
	e.addUser("ada")
	e.srv.SetFleet(&fakeFleet{addr: "127.0.0.1:1"})
	e.addDeployableModel("ada")

	res := e.do("ada", "POST", "/api/deployments/ada", `{"project":"proj","model":"yolo","deployment":"api","name":"Production","region":"us-central1"}`)
	if res.status != http.StatusCreated {
		t.Fatalf("create: status %d: %s", res.status, res.body)
	}
	contract.Validate(t, "CreateDeploymentResponse", res.body)
	if got := e.do("ada", "POST", "/api/deployments/ada", `{"project":"proj","model":"yolo","deployment":"api","name":"Again","region":"us-central1"}`).status; got != http.StatusConflict {
		t.Errorf("create with a taken name: status %d, want 409", got)
	}
	contract.Validate(t, "ListDeploymentsResponse", e.do("ada", "GET", "/api/deployments/ada?model=proj/yolo", "").body)
	get := e.do("ada", "GET", "/api/deployments/ada/api", "")
	contract.Validate(t, "DeploymentDetailResponse", get.body)

	stop := e.do("ada", "PATCH", "/api/deployments/ada/api", `{"action":"stop"}`)
	if stop.status != http.StatusOK {
		t.Fatalf("stop: status %d: %s", stop.status, stop.body)
	}
	contract.Validate(t, "UpdateDeploymentResponse", stop.body)
	start := e.do("ada", "PATCH", "/api/deployments/ada/api", `{"action":"start"}`)
	if start.status != http.StatusAccepted {
		t.Fatalf("start: status %d: %s", start.status, start.body)
	}
	contract.Validate(t, "UpdatingDeploymentResponse", start.body)
	replace := e.do("ada", "PATCH", "/api/deployments/ada/api", `{"action":"replace","project":"proj","model":"yolo","name":"Renamed"}`)
	if replace.status != http.StatusAccepted {
		t.Fatalf("replace: status %d: %s", replace.status, replace.body)
	}
	contract.Validate(t, "UpdatingDeploymentResponse", replace.body)
	if got := e.do("ada", "PATCH", "/api/deployments/ada/api", `{"action":"explode"}`).status; got != http.StatusBadRequest {
		t.Errorf("unknown action: status %d, want 400", got)
	}
	health := e.do("ada", "GET", "/api/deployments/ada/api/health", "")
	contract.Validate(t, "DeploymentHealthResponse", health.body)
	if health.json(t)["healthy"] != false {
		t.Errorf("health of a deployment no node serves = %s, want healthy false", health.body)
	}
	del := e.do("ada", "DELETE", "/api/deployments/ada/api", "")
	contract.Validate(t, "DeleteDeploymentResponse", del.body)
}

func TestDeploymentRoles(t *testing.T) {
	e := newEnv(t)
	e.addUser("ada")
	e.addUser("vic")
	ws := e.must(&state.CreateWorkspace{WorkspaceID: ids.New(), Slug: "acme", Name: "Acme", OwnerID: e.users["ada"], CreatedAt: e.clock()}).(state.Workspace)
	e.must(&state.AddMember{WorkspaceID: ws.ID, UserID: e.users["vic"], Role: state.RoleViewer, CreatedAt: e.clock()})
	e.srv.SetFleet(&fakeFleet{addr: "127.0.0.1:1"})
	m := e.addDeployableModel("acme")
	res := e.do("ada", "POST", "/api/deployments", `{"modelId":"`+m.ID+`"}`)
	if res.status != http.StatusCreated {
		t.Fatalf("create: status %d: %s", res.status, res.body)
	}
	id := res.json(t)["id"].(string)
	if got := e.do("vic", "GET", "/api/deployments/"+id, "").status; got != http.StatusOK {
		t.Errorf("get by a viewer: status %d, want 200", got)
	}
	if got := e.do("vic", "POST", "/api/deployments/"+id+"/stop", "").status; got != http.StatusForbidden {
		t.Errorf("stop by a viewer: status %d, want 403", got)
	}
	if got := e.do("vic", "POST", "/api/deployments", `{"modelId":"`+m.ID+`"}`).status; got != http.StatusForbidden {
		t.Errorf("create by a viewer: status %d, want 403", got)
	}
}
