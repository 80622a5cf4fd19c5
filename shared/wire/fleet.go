// Package wire defines the messages that control-plane voters and
// data-plane nodes exchange over HTTP: the fleet state a node follows, its
// heartbeats, model file downloads, batched usage and quota leases.
//
// Every internal route is authenticated with the cluster secret in the
// HeaderSecret header and is never reachable with a user API key. Messages
// are JSON. The types hold plain data and no behaviour, so both sides can
// evolve independently: unknown fields are ignored, and fields are only
// ever added.
package wire

// HeaderSecret carries the cluster secret on internal routes.
const HeaderSecret = "X-Yoloplane-Cluster-Secret"

// Routes served by control-plane voters for data-plane nodes.
const (
	// PathWatch is a long poll: GET PathWatch?since=V returns FleetState as
	// soon as its Version is above V, or 304 Not Modified after the wait
	// (WatchWait). A node resumes after a disconnect by polling again with
	// the last version it applied.
	PathWatch = "/internal/v1/fleet/watch"
	// PathHeartbeat takes a Heartbeat (POST) and returns HeartbeatReply.
	PathHeartbeat = "/internal/v1/fleet/heartbeat"
	// PathBlobs serves model files: GET PathBlobs + sha256 hex. The node
	// verifies the hash of what it receives.
	PathBlobs = "/internal/v1/fleet/blobs/"
	// PathUsage takes a UsageBatch (POST).
	PathUsage = "/internal/v1/fleet/usage"
	// PathQuota takes a QuotaRequest (POST) and returns QuotaGrant.
	PathQuota = "/internal/v1/fleet/quota"
)

// HeaderPredictShape on a node's predict route selects the response body.
// The control plane sets it to PredictShapeContract when it proxies an
// owner-route predict. Without it a node returns the ID-route shape.
const HeaderPredictShape = "X-Yoloplane-Predict-Shape"

// PredictShapeContract asks for the API contract's PredictResponse.
const PredictShapeContract = "contract"

// Routes served by data-plane nodes for the control plane, besides the
// public predict route.
const (
	// NodePathDeploymentStats returns DeploymentStats for one deployment:
	// GET NodePathDeploymentStats + deployment ID.
	NodePathDeploymentStats = "/internal/v1/node/deployments/"
	// NodePathModels serves model predicts the control plane forwards to a
	// node that holds the model warm: POST NodePathModels + sha256 +
	// "/predict", and POST NodePathModels + sha256 + "/warmup" to check
	// that the model is warm. The control plane has already authenticated
	// and authorized the caller, so these routes take the cluster secret,
	// never an API key, and name the model in HeaderModelID and
	// HeaderModelName for the response body.
	NodePathModels = "/internal/v1/node/models/"
	// NodePathDeploymentPredict serves deployment predicts the control
	// plane forwards: POST NodePathDeploymentPredict + deployment ID. The
	// control plane has already authenticated the caller, checked its
	// role and counted the request against its rate limit, so the route
	// takes the cluster secret and the caller's key ID in HeaderKeyID, and
	// the node neither checks the key nor takes quota for it.
	// NOTE: nodes older than this route answer 404 here, so upgrade the
	// nodes before the voters.
	NodePathDeploymentPredict = "/internal/v1/node/predict/"
)

// HeaderKeyID names the API key a forwarded deployment predict runs for,
// so that the node counts its usage under that key.
const HeaderKeyID = "X-Yoloplane-Key-Id"

// Headers of a forwarded model predict.
const (
	HeaderModelID   = "X-Yoloplane-Model-Id"
	HeaderModelName = "X-Yoloplane-Model-Name"
)

// QueryRegion on PathWatch limits the returned deployments to those of one
// region. Without it the watch returns every deployment.
const QueryRegion = "region"

// WatchWaitSeconds is how long the control plane holds a watch request
// open when nothing changed.
const WatchWaitSeconds = 25

// Desired states of a deployment.
const (
	DesiredRunning = "running"
	DesiredStopped = "stopped"
)

// FleetState is everything a data-plane node needs to serve predicts
// without asking the control plane: the deployments, the API keys that may
// call them, and the models they run.
type FleetState struct {
	// Version increases with every change to the state a node sees.
	Version     uint64       `json:"version"`
	Deployments []Deployment `json:"deployments"`
	Keys        []Key        `json:"keys"`
}

// Deployment is a dedicated endpoint as the nodes see it.
type Deployment struct {
	ID          string `json:"id"`
	WorkspaceID string `json:"workspaceId"`
	Owner       string `json:"owner"` // workspace slug
	Name        string `json:"name"`  // deployment slug
	Region      string `json:"region"`
	// Desired is DesiredRunning or DesiredStopped.
	Desired string `json:"desired"`
	// Model is the revision that serves. During a replace, Previous keeps
	// serving until Model is warm on the node.
	Model    ModelRef  `json:"model"`
	Previous *ModelRef `json:"previous,omitempty"`
	// Nodes are the IDs of the data-plane nodes the deployment is placed on.
	Nodes []string `json:"nodes"`
}

// ModelRef names a model revision and its file.
type ModelRef struct {
	ModelID string `json:"modelId"`
	Name    string `json:"name"`
	SHA256  string `json:"sha256"`
	Size    int64  `json:"size"`
}

// Key is an API key as the nodes see it: its hash, never the key.
type Key struct {
	Hash   string `json:"hash"`
	KeyID  string `json:"keyId"`
	UserID string `json:"userId"`
	// Workspaces are the IDs of the workspaces the key's user may read.
	Workspaces []string `json:"workspaces"`
	Plan       string   `json:"plan"`
}

// Model states a node reports.
const (
	ModelWarming = "warming"
	ModelReady   = "ready"
	ModelFailed  = "failed"
	// ModelReplacing means the node still serves the previous revision
	// while it warms the new one, so predicts may go to it.
	ModelReplacing = "replacing"
)

// Heartbeat is a node's periodic report to the control plane.
type Heartbeat struct {
	NodeID     string  `json:"nodeId"`
	Region     string  `json:"region"`
	HTTPAddr   string  `json:"httpAddr"`   // host:port of the node's public listener
	GossipAddr string  `json:"gossipAddr"` // host:port of its memberlist
	Capacity   int     `json:"capacity"`   // models it can hold warm
	Load       float64 `json:"load"`       // in-flight predicts per inference slot
	// Deployments maps deployment ID to ModelWarming, ModelReady or
	// ModelFailed for the deployments placed on this node.
	Deployments map[string]string `json:"deployments"`
	// Errors maps deployment ID to the reason it failed, for ModelFailed.
	Errors map[string]string `json:"errors,omitempty"`
	// StateVersion is the FleetState version the node serves from.
	StateVersion uint64 `json:"stateVersion"`
}

// HeartbeatReply tells the node the current state version, so it can poll
// early when it is behind.
type HeartbeatReply struct {
	Version uint64 `json:"version"`
}

// UsageBatch carries counts a node collected since its last batch.
type UsageBatch struct {
	NodeID  string  `json:"nodeId"`
	Entries []Usage `json:"entries"`
}

// Usage counts the predicts of one key on one deployment.
type Usage struct {
	DeploymentID string `json:"deploymentId"`
	KeyID        string `json:"keyId"`
	Requests     int64  `json:"requests"`
	Errors       int64  `json:"errors"`
}

// QuotaRequest asks for a lease of Want requests for a key.
type QuotaRequest struct {
	NodeID string `json:"nodeId"`
	KeyID  string `json:"keyId"`
	Plan   string `json:"plan"`
	Want   int    `json:"want"`
}

// QuotaGrant is a lease of requests a node may admit without asking again,
// valid until ResetUnix or until used up.
type QuotaGrant struct {
	Granted   int   `json:"granted"`
	Limit     int   `json:"limit"`
	Remaining int   `json:"remaining"`
	ResetUnix int64 `json:"resetUnix"`
	// RetryAfterSeconds is set when Granted is 0.
	RetryAfterSeconds int `json:"retryAfterSeconds,omitempty"`
}

// DeploymentStats is what a node measured for one deployment.
type DeploymentStats struct {
	DeploymentID string `json:"deploymentId"`
	NodeID       string `json:"nodeId"`
	Requests     int64  `json:"requests"`
	Errors       int64  `json:"errors"`
	// LatenciesMs holds recent request latencies in milliseconds, newest
	// last, bounded in length by the node.
	LatenciesMs []float64 `json:"latenciesMs"`
	// Series holds per-minute request and error counts, oldest first.
	Series []MinuteCount `json:"series"`
	Logs   []LogEntry    `json:"logs"`
}

// MinuteCount is one point of a sparkline.
type MinuteCount struct {
	MinuteUnix int64 `json:"minute"`
	Requests   int64 `json:"requests"`
	Errors     int64 `json:"errors"`
	// P50Ms is the median latency of the minute.
	P50Ms float64 `json:"p50Ms"`
}

// LogEntry is one request a node served.
type LogEntry struct {
	Time      string  `json:"timestamp"` // RFC 3339 UTC
	Severity  string  `json:"severity"`  // INFO for 2xx, WARNING for 4xx, ERROR for 5xx
	Method    string  `json:"method"`
	Path      string  `json:"path"`
	Status    int     `json:"status"`
	LatencyMs float64 `json:"latencyMs"`
	Message   string  `json:"message,omitempty"`
}
