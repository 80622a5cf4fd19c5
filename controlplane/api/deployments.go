package api

import (
	"context"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/controlplane/state"
	"github.com/yoloplane/yoloplane/shared/apierr"
	"github.com/yoloplane/yoloplane/shared/ids"
	"github.com/yoloplane/yoloplane/shared/wire"
)

// Fleet is the part of the fleet controller that the deployment routes use.
// Handlers call it from request goroutines.
type Fleet interface {
	// ServingAddrs returns the host:port of the live nodes among nodeIDs
	// that report the deployment ready.
	ServingAddrs(deploymentID string, nodeIDs []string) []string
	// NodeAddr returns the host:port of a known node.
	NodeAddr(nodeID string) (string, bool)
	// DeploymentStats fetches the nodes' measurements of a deployment.
	DeploymentStats(ctx context.Context, deploymentID string, nodeIDs []string) ([]wire.DeploymentStats, error)
	// ModelAddrs returns the host:port of the live nodes that hold the
	// model file with the given SHA-256 warm for a ready deployment.
	ModelAddrs(sha256 string) []string
	// MarkSuspect records that the node at addr could not be reached, so
	// that routing tries it last until its next heartbeat.
	MarkSuspect(addr string)
	// Secret returns the cluster secret the nodes' internal routes take.
	Secret() string
}

// SetFleet installs the fleet controller. Call it before Handler. Without
// it, predicts get 503 and deployments have no service URL.
func (s *Server) SetFleet(f Fleet) { s.fleet = f }

// Deployment list bounds from the route documentation.
const (
	defaultDeploymentLimit = 20
	maxDeploymentLimit     = 100
)

// routeDeployments dispatches /api/deployments/... by path shape: a first
// segment of 24 hex characters is a deployment ID, anything else an owner.
func (s *Server) routeDeployments(ctx *fasthttp.RequestCtx) {
	seg := splitPath(ctx)
	method := string(ctx.Method())
	switch {
	case len(seg) >= 1 && ids.IsID(seg[0]):
		s.deploymentByIDRoutes(ctx, method, seg[0], seg[1:])
	case len(seg) == 1 && method == fasthttp.MethodGet:
		s.handleListOwnerDeployments(ctx, seg[0])
	case len(seg) == 1 && method == fasthttp.MethodPost:
		s.handleCreateOwnerDeployment(ctx, seg[0])
	case len(seg) >= 2:
		s.deploymentByOwnerRoutes(ctx, method, seg[0], seg[1], seg[2:])
	default:
		apierr.Write(ctx, apierr.NotFound("no route for %s %s", method, ctx.Path()))
	}
}

func (s *Server) deploymentByIDRoutes(ctx *fasthttp.RequestCtx, method, id string, rest []string) {
	action := strings.Join(rest, "/")
	op, ok := seedDeploymentOps[method+" "+action]
	if !ok {
		apierr.Write(ctx, apierr.NotFound("no route for %s %s", method, ctx.Path()))
		return
	}
	d, e := s.deploymentByID(ctx, deploymentRoute(method, "/api/deployments/{deploymentId}", action), id)
	if e != nil {
		s.drainAndFail(ctx, e)
		return
	}
	switch op {
	case "get":
		writeJSON(ctx, fasthttp.StatusOK, s.seedDeployment(d))
	case "delete":
		s.deleteDeployment(ctx, d, false)
	case "start", "stop":
		if d, ok := s.setDesired(ctx, d, op); ok {
			writeJSON(ctx, fasthttp.StatusOK, s.seedDeployment(d))
		}
	default:
		s.deploymentOps(ctx, op, d, false)
	}
}

var seedDeploymentOps = map[string]string{
	"GET ": "get", "DELETE ": "delete", "POST start": "start", "POST stop": "stop",
	"GET health": "health", "POST predict": "predict", "GET metrics": "metrics", "GET logs": "logs",
}

var ownerDeploymentOps = map[string]string{
	"GET ": "get", "DELETE ": "delete", "PATCH ": "patch",
	"GET health": "health", "POST predict": "predict", "GET metrics": "metrics", "GET logs": "logs",
}

func (s *Server) deploymentByOwnerRoutes(ctx *fasthttp.RequestCtx, method, owner, slug string, rest []string) {
	op, ok := ownerDeploymentOps[method+" "+strings.Join(rest, "/")]
	if !ok {
		apierr.Write(ctx, apierr.NotFound("no route for %s %s", method, ctx.Path()))
		return
	}
	r := deploymentRoute(method, "/api/deployments/{owner}/{deployment}", strings.Join(rest, "/"))
	d, e := s.deploymentBySlug(ctx, r, owner, slug)
	if e != nil {
		s.drainAndFail(ctx, e)
		return
	}
	switch op {
	case "get":
		writeJSON(ctx, fasthttp.StatusOK, map[string]any{"deployment": s.contractDeployment(d), "region": region})
	case "delete":
		s.deleteDeployment(ctx, d, true)
	case "patch":
		s.patchDeployment(ctx, d)
	default:
		s.deploymentOps(ctx, op, d, true)
	}
}

func (s *Server) deploymentOps(ctx *fasthttp.RequestCtx, op string, d state.Deployment, contract bool) {
	switch op {
	case "health":
		s.deploymentHealth(ctx, d)
	case "predict":
		s.proxyPredict(ctx, d, contract)
	case "metrics":
		s.deploymentMetrics(ctx, d, contract)
	case "logs":
		s.deploymentLogs(ctx, d, contract)
	}
}

// deploymentRoute returns the routeRoles entry of a request on one
// deployment: method, then pattern, then the action path if any.
func deploymentRoute(method, pattern, action string) route {
	if action == "" {
		return route(method + " " + pattern)
	}
	return route(method + " " + pattern + "/" + action)
}

func (s *Server) deploymentByID(ctx *fasthttp.RequestCtx, r route, id string) (state.Deployment, *apierr.Error) {
	notFound := apierr.NotFound("deployment %s not found", id)
	d, ok := s.fsm.DeploymentByID(strings.ToLower(id))
	if !ok {
		return state.Deployment{}, notFound
	}
	return d, s.authorize(ctx, r, d.WorkspaceID, notFound)
}

func (s *Server) deploymentBySlug(ctx *fasthttp.RequestCtx, r route, owner, slug string) (state.Deployment, *apierr.Error) {
	notFound := apierr.NotFound("deployment %s/%s not found", owner, slug)
	ws, ok := s.fsm.WorkspaceBySlug(owner)
	if !ok {
		return state.Deployment{}, notFound
	}
	// Authorizing before the lookup gives a caller who may not act in the
	// workspace the same error whether the deployment exists or not.
	if e := s.authorize(ctx, r, ws.ID, notFound); e != nil {
		return state.Deployment{}, e
	}
	d, ok := s.fsm.DeploymentBySlug(ws.ID, slug)
	if !ok {
		return state.Deployment{}, notFound
	}
	return d, nil
}

// serviceURL returns the predict URL on the first known node the
// deployment is placed on, or "" when it is on none.
func (s *Server) serviceURL(d state.Deployment) string {
	if s.fleet == nil {
		return ""
	}
	for _, n := range d.Nodes {
		if addr, ok := s.fleet.NodeAddr(n); ok {
			return "http://" + addr + "/api/deployments/" + d.ID + "/predict"
		}
	}
	return ""
}

// seedDeploymentView is a deployment on ID routes.
type seedDeploymentView struct {
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	Deployment    string   `json:"deployment"`
	Owner         string   `json:"owner"`
	ModelID       string   `json:"modelId"`
	Model         string   `json:"model,omitempty"`
	Project       string   `json:"project,omitempty"`
	Region        string   `json:"region"`
	Status        string   `json:"status"`
	StatusMessage string   `json:"statusMessage,omitempty"`
	Desired       string   `json:"desired"`
	Revision      int64    `json:"revision"`
	Nodes         []string `json:"nodes"`
	ServiceURL    string   `json:"serviceUrl,omitempty"`
	DeployedAt    string   `json:"deployedAt,omitempty"`
	CreatedAt     string   `json:"createdAt"`
	UpdatedAt     string   `json:"updatedAt"`
}

func (s *Server) seedDeployment(d state.Deployment) seedDeploymentView {
	v := seedDeploymentView{
		ID: d.ID, Name: d.Name, Deployment: d.Slug, ModelID: d.Model.ModelID, Region: d.Region,
		Status: d.Status, StatusMessage: d.StatusMessage, Desired: d.Desired, Revision: d.Revision,
		Nodes: d.Nodes, ServiceURL: s.serviceURL(d),
		CreatedAt: formatTime(d.CreatedAt), UpdatedAt: formatTime(d.UpdatedAt),
	}
	if v.Nodes == nil {
		v.Nodes = []string{}
	}
	if d.DeployedAt != nil {
		v.DeployedAt = formatTime(*d.DeployedAt)
	}
	c := s.contractDeployment(d)
	v.Owner, v.Model, v.Project = c.Owner, c.Model, c.Project
	return v
}

// contractDeploymentView is the contract's Deployment schema.
type contractDeploymentView struct {
	ID            string           `json:"id"`
	Owner         string           `json:"owner"`
	Project       string           `json:"project,omitempty"`
	Model         string           `json:"model,omitempty"`
	Task          string           `json:"task,omitempty"`
	Deployment    string           `json:"deployment"`
	Name          string           `json:"name"`
	Status        string           `json:"status"`
	StatusMessage string           `json:"statusMessage,omitempty"`
	Region        string           `json:"region"`
	ServiceURL    string           `json:"serviceUrl,omitempty"`
	Resources     deploymentSizing `json:"resources"`
	DeployedAt    string           `json:"deployedAt,omitempty"`
	CreatedAt     string           `json:"createdAt"`
	UpdatedAt     string           `json:"updatedAt"`
}

// deploymentSizing is the contract's resources object.
// NOTE: every figure is fixed (one instance, 1 CPU, 2 GiB), because nodes
// do not report what a session uses.
type deploymentSizing struct {
	CPU          float64 `json:"cpu"`
	MemoryGi     float64 `json:"memoryGi"`
	MinInstances float64 `json:"minInstances"`
	MaxInstances float64 `json:"maxInstances"`
}

func (s *Server) contractDeployment(d state.Deployment) contractDeploymentView {
	v := contractDeploymentView{
		ID: d.ID, Deployment: d.Slug, Name: d.Name, Status: d.Status, StatusMessage: d.StatusMessage,
		Region: d.Region, ServiceURL: s.serviceURL(d),
		Resources: deploymentSizing{CPU: 1, MemoryGi: 2, MinInstances: 1, MaxInstances: 1},
		CreatedAt: formatTime(d.CreatedAt), UpdatedAt: formatTime(d.UpdatedAt),
	}
	if d.DeployedAt != nil {
		v.DeployedAt = formatTime(*d.DeployedAt)
	}
	if ws, ok := s.fsm.WorkspaceByID(d.WorkspaceID); ok {
		v.Owner = ws.Slug
	}
	if m, ok := s.fsm.ModelByID(d.Model.ModelID); ok && m.DeletedAt == nil {
		v.Model, v.Task = m.Slug, m.Task
		if p, ok := s.fsm.ProjectByID(m.ProjectID); ok {
			v.Project = p.Slug
		}
	}
	return v
}
