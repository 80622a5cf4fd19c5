// Package api serves the resource REST API over fasthttp on both route
// families. It covers authentication, role checks from one route table,
// API keys, projects, models with uploads and signed downloads, trash,
// activity, deployments, and predict routes that hand requests to loaded
// models or data-plane nodes.
//
// Handlers read replicated state from the control plane's state machine and
// write through the Raft node. A predict waits for no Raft commit, but on a
// follower the rate limiter and the lookup of an unknown key may wait for
// the leader.
// A Server is safe for concurrent use once Handler has been called.
package api

import (
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fasthttp/router"
	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/controlplane/state"
	"github.com/yoloplane/yoloplane/dataplane/accounting"
	"github.com/yoloplane/yoloplane/dataplane/predict"
	"github.com/yoloplane/yoloplane/dataplane/predictapi"
	"github.com/yoloplane/yoloplane/shared/apierr"
	"github.com/yoloplane/yoloplane/shared/httpserver"
)

// Config sets the API server's limits.
type Config struct {
	// MaxBody is the largest request body in bytes. 10 MB holds any photo a
	// phone takes; larger uploads get a 413.
	MaxBody int64
	// PredictTimeout bounds how long a predict waits for a free inference
	// slot before it gets a 503.
	PredictTimeout time.Duration
	// AllowURLSource lets predict fetch `source` URLs.
	AllowURLSource bool
	Version        string
	// MaxUpload is the largest model file in bytes. 1 GiB holds the
	// largest YOLO checkpoints with room to spare.
	MaxUpload int64
	// PublicURL is the scheme and host that clients reach this server at,
	// such as https://models.example.com, for the absolute links in
	// responses (downloads, invites). Empty uses the request's Host header,
	// which a client chooses.
	PublicURL string
}

// DefaultConfig returns the limits `yoloplane serve` uses.
func DefaultConfig() Config {
	return Config{MaxBody: 10_000_000, PredictTimeout: 30 * time.Second, Version: "dev", MaxUpload: 1 << 30}
}

// Server is the REST API.
type Server struct {
	cfg          Config
	fsm          *state.FSM
	log          *slog.Logger
	predict      predictapi.Handler
	metrics      *accounting.Recorder
	writeMetrics func(w *fasthttp.RequestCtx)

	backend Backend
	fleet   Fleet

	mu     sync.RWMutex
	models map[string]*predict.Model // by model ID

	ready atomic.Bool

	openAPIOnce sync.Once
	openAPI     []byte // the generated document, built on first request
}

// New returns a Server reading state from fsm.
func New(cfg Config, fsm *state.FSM, rec *accounting.Recorder, writeMetrics func(*fasthttp.RequestCtx), log *slog.Logger) *Server {
	s := &Server{
		cfg:          cfg,
		fsm:          fsm,
		log:          log,
		metrics:      rec,
		writeMetrics: writeMetrics,
		models:       make(map[string]*predict.Model),
	}
	s.predict = predictapi.Handler{
		MaxBody:        cfg.MaxBody,
		AllowURLSource: cfg.AllowURLSource,
		Recorder:       rec,
		Logger:         log,
		Started:        time.Now(),
		Version:        cfg.Version,
		Timeout:        cfg.PredictTimeout,
	}
	return s
}

// AddModel makes a loaded model available for predicts under its ID.
func (s *Server) AddModel(id string, m *predict.Model) {
	s.mu.Lock()
	s.models[id] = m
	s.mu.Unlock()
}

// removeLoaded unloads a model. The session is closed only when no other
// model ID shares it, as clones do.
func (s *Server) removeLoaded(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.models[id]
	delete(s.models, id)
	if m == nil {
		return
	}
	for _, other := range s.models {
		if other == m {
			return
		}
	}
	if err := m.Close(); err != nil {
		s.log.Error("close model session failed", "model_id", id, "error", err)
	}
}

// HasModel reports whether a model is loaded under id.
func (s *Server) HasModel(id string) bool { return s.loaded(id) != nil }

func (s *Server) loaded(id string) *predict.Model {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.models[id]
}

// SetReady marks the server ready once every model finished its warm-up.
func (s *Server) SetReady() { s.ready.Store(true) }

// Handler returns the request handler with every route registered.
func (s *Server) Handler() fasthttp.RequestHandler {
	r := router.New()
	r.RedirectTrailingSlash = false
	r.GET("/health", s.handleHealth)
	r.HEAD("/health", s.handleHealth)
	r.GET("/metrics", s.handleMetrics)
	r.GET("/api/models", s.auth(s.handleListModels))
	r.POST("/api/models", s.auth(s.handleCreateModel))
	r.ANY("/api/models/{path:*}", s.auth(s.routeModels))
	r.GET("/api/projects", s.auth(s.handleListProjects))
	r.POST("/api/projects", s.auth(s.handleCreateProject))
	r.ANY("/api/projects/{path:*}", s.auth(s.routeProjects))
	r.GET("/api/api-keys", s.auth(s.handleListKeys))
	r.POST("/api/api-keys", s.auth(s.handleCreateKey))
	r.DELETE("/api/api-keys", s.auth(s.handleDeleteKey))
	r.GET("/api/trash", s.auth(s.handleListTrash))
	r.POST("/api/trash", s.auth(s.handleRestoreTrash))
	r.DELETE("/api/trash", s.auth(s.handleDeleteTrash))
	r.DELETE("/api/trash/empty", s.auth(s.handleEmptyTrash))
	r.GET("/api/activity", s.auth(s.handleListActivity))
	r.POST("/api/activity/mark-seen", s.auth(s.handleMarkSeen))
	r.POST("/api/activity/archive", s.auth(s.handleArchive))
	r.GET("/files/models/{modelId}/{name}", s.handleDownload)
	r.GET("/api/deployments", s.auth(s.handleListDeployments))
	r.POST("/api/deployments", s.auth(s.handleCreateDeployment))
	r.ANY("/api/deployments/{path:*}", s.auth(s.routeDeployments))
	r.GET("/api/monitoring", s.auth(s.handleMonitoring))
	s.registerAccountRoutes(r)
	r.NotFound = func(ctx *fasthttp.RequestCtx) {
		apierr.Write(ctx, apierr.NotFound("no route for %s %s", ctx.Method(), ctx.Path()))
	}
	r.MethodNotAllowed = func(ctx *fasthttp.RequestCtx) {
		// The router sets Allow before calling this; apierr.Write resets
		// the response, so it is set again afterwards.
		allow := string(ctx.Response.Header.Peek(fasthttp.HeaderAllow))
		apierr.Write(ctx, apierr.New(fasthttp.StatusMethodNotAllowed, apierr.CodeBadRequest,
			"method %s is not allowed on %s: use %s", ctx.Method(), ctx.Path(), allow))
		ctx.Response.Header.Set(fasthttp.HeaderAllow, allow)
	}
	r.PanicHandler = func(ctx *fasthttp.RequestCtx, v any) {
		s.log.Error("BUG: handler panicked", "path", string(ctx.Path()), "panic", v)
		apierr.Write(ctx, apierr.Internal)
	}
	return r.Handler
}

// FastHTTPServer returns a fasthttp.Server with the body limits the predict
// handler relies on: bodies over MaxBody are streamed to the handler, which
// responds 413 and drains them, so the client reads the JSON error instead of
// a reset connection.
func (s *Server) FastHTTPServer() *fasthttp.Server {
	return httpserver.New(s.Handler(), httpserver.Config{MaxBody: s.cfg.MaxBody}, s.log)
}

func (s *Server) handleHealth(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("application/json")
	s.mu.RLock()
	n := len(s.models)
	s.mu.RUnlock()
	if !s.ready.Load() {
		ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
		fmt.Fprintf(ctx, `{"status":"starting","ready":false,"models":%d}`, n)
		return
	}
	fmt.Fprintf(ctx, `{"status":"ok","ready":true,"models":%d}`, n)
}

func (s *Server) handleMetrics(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("text/plain; version=0.0.4")
	s.writeMetrics(ctx)
}
