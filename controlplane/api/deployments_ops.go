package api

import (
	"context"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/controlplane/state"
	"github.com/yoloplane/yoloplane/shared/apierr"
	"github.com/yoloplane/yoloplane/shared/wire"
)

// nodeCallTimeout bounds a proxied predict or a health probe to a node.
const nodeCallTimeout = 30 * time.Second

var nodeClient = &fasthttp.Client{Name: "yoloplane-controlplane", ReadTimeout: nodeCallTimeout, WriteTimeout: nodeCallTimeout}

func (s *Server) servingAddrs(d state.Deployment) []string {
	if s.fleet == nil || d.Desired != state.DesiredRunning {
		return nil
	}
	return s.fleet.ServingAddrs(d.ID, d.Nodes)
}

func notServing(d state.Deployment) *apierr.Error {
	if d.Desired != state.DesiredRunning {
		return apierr.New(fasthttp.StatusServiceUnavailable, apierr.CodeServiceUnavailable,
			"deployment %s is stopped: start it, then retry", d.ID)
	}
	return apierr.New(fasthttp.StatusServiceUnavailable, apierr.CodeServiceUnavailable,
		"deployment %s is %s and no node serves it yet: retry after a few seconds", d.ID, d.Status)
}

// proxyPredict forwards the request body to the internal predict route of
// a node that serves d, trying the next node when one cannot be reached.
// The node trusts the cluster secret and the caller's key ID instead of
// checking the key and taking quota again, because auth already did both.
// With contract set the node returns the contract's PredictResponse.
func (s *Server) proxyPredict(ctx *fasthttp.RequestCtx, d state.Deployment, contract bool) {
	addrs := s.servingAddrs(d)
	if len(addrs) == 0 {
		s.drainAndFail(ctx, notServing(d))
		ctx.Response.Header.Set("Retry-After", "5")
		return
	}
	body, e := requestBody(ctx, s.cfg.MaxBody)
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	req.Header.Set(wire.HeaderSecret, s.fleet.Secret())
	req.Header.Set(wire.HeaderKeyID, principal(ctx).Key.ID)
	if s.forwardPredict(ctx, req, body, addrs, wire.NodePathDeploymentPredict+d.ID, contract) {
		return
	}
	apierr.Write(ctx, apierr.New(fasthttp.StatusServiceUnavailable, apierr.CodeServiceUnavailable,
		"no node serving deployment %s answered: retry after a few seconds", d.ID))
	ctx.Response.Header.Set("Retry-After", "5")
}

// forwardPredict posts body to path on each node of addrs in turn and
// copies the first response into ctx. It moves on when a node cannot be
// reached, marking it suspect, or responds 503 while another node is left.
// It returns false, with ctx untouched, when no node answered. req carries
// the caller's extra headers; body must stay valid until it returns.
func (s *Server) forwardPredict(ctx *fasthttp.RequestCtx, req *fasthttp.Request, body []byte, addrs []string, path string, contract bool) bool {
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	req.Header.SetMethod(fasthttp.MethodPost)
	req.Header.SetContentTypeBytes(ctx.Request.Header.ContentType())
	if contract {
		req.Header.Set(wire.HeaderPredictShape, wire.PredictShapeContract)
	}
	// SetBodyRaw shares the request's buffer instead of copying an image
	// of up to MaxBody bytes.
	req.SetBodyRaw(body)
	for i, addr := range addrs {
		req.SetRequestURI("http://" + addr + path)
		if err := nodeClient.DoTimeout(req, resp, nodeCallTimeout); err != nil {
			s.log.Warn("proxy predict failed", "path", path, "node_addr", addr, "error", err)
			if s.fleet != nil {
				s.fleet.MarkSuspect(addr)
			}
			continue
		}
		if resp.StatusCode() == fasthttp.StatusServiceUnavailable && i < len(addrs)-1 {
			continue
		}
		resp.CopyTo(&ctx.Response)
		return true
	}
	return false
}

// deploymentHealth probes the node health route of d and reports the
// contract's DeploymentHealthResponse.
func (s *Server) deploymentHealth(ctx *fasthttp.RequestCtx, d state.Deployment) {
	addrs := s.servingAddrs(d)
	if len(addrs) == 0 {
		msg := "deployment is " + d.Status
		if d.StatusMessage != "" {
			msg += ": " + d.StatusMessage
		}
		writeJSON(ctx, fasthttp.StatusOK, map[string]any{"healthy": false, "latencyMs": 0, "error": msg})
		return
	}
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://" + addrs[0] + "/api/deployments/" + d.ID + "/health")
	req.Header.SetBytesV(fasthttp.HeaderAuthorization, ctx.Request.Header.Peek(fasthttp.HeaderAuthorization))
	started := time.Now()
	err := nodeClient.DoTimeout(req, resp, 5*time.Second)
	latency := float64(time.Since(started).Microseconds()) / 1000
	if err != nil {
		writeJSON(ctx, fasthttp.StatusOK, map[string]any{"healthy": false, "latencyMs": latency, "error": "node did not respond: " + err.Error()})
		return
	}
	out := map[string]any{"healthy": resp.StatusCode() == fasthttp.StatusOK, "status": resp.StatusCode(), "latencyMs": latency}
	writeJSON(ctx, fasthttp.StatusOK, out)
}

// stats fetches the measurements of every node d is placed on.
func (s *Server) stats(ctx *fasthttp.RequestCtx, d state.Deployment) ([]wire.DeploymentStats, *apierr.Error) {
	if s.fleet == nil || len(d.Nodes) == 0 {
		return nil, nil
	}
	c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := s.fleet.DeploymentStats(c, d.ID, d.Nodes)
	if err != nil {
		s.log.Warn("fetch deployment stats failed", "deployment_id", d.ID, "error", err)
		return nil, apierr.New(fasthttp.StatusServiceUnavailable, apierr.CodeServiceUnavailable,
			"no node of deployment %s returned its metrics: retry after a few seconds", d.ID)
	}
	return st, nil
}

// metricRanges are the ranges the metrics route accepts.
var metricRanges = map[string]time.Duration{"1h": time.Hour, "6h": 6 * time.Hour, "24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour, "30d": 30 * 24 * time.Hour}

type summary struct {
	TotalRequests float64 `json:"totalRequests"`
	ErrorCount    float64 `json:"errorCount"`
	ErrorRate     float64 `json:"errorRate"`
	AvgLatencyMs  float64 `json:"avgLatencyMs"`
	P50LatencyMs  float64 `json:"p50LatencyMs"`
	P95LatencyMs  float64 `json:"p95LatencyMs"`
	P99LatencyMs  float64 `json:"p99LatencyMs"`
}

func summarize(stats []wire.DeploymentStats) summary {
	var s summary
	var lat []float64
	for _, st := range stats {
		s.TotalRequests += float64(st.Requests)
		s.ErrorCount += float64(st.Errors)
		lat = append(lat, st.LatenciesMs...)
	}
	if s.TotalRequests > 0 {
		s.ErrorRate = s.ErrorCount / s.TotalRequests
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		sum := 0.0
		for _, v := range lat {
			sum += v
		}
		s.AvgLatencyMs = sum / float64(len(lat))
		s.P50LatencyMs, s.P95LatencyMs, s.P99LatencyMs = quantile(lat, 0.50), quantile(lat, 0.95), quantile(lat, 0.99)
	}
	return s
}

// quantile returns the nearest-rank quantile q of sorted values.
func quantile(sorted []float64, q float64) float64 {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

type point struct {
	Timestamp string  `json:"timestamp"`
	Value     float64 `json:"value"`
}

// series merges the nodes' per-minute counts inside [start, end] into
// points, oldest first.
func series(stats []wire.DeploymentStats, start, end time.Time) (req, errs, p50 []point) {
	type agg struct{ req, errs, p50 float64 }
	byMinute := map[int64]*agg{}
	for _, st := range stats {
		for _, m := range st.Series {
			if m.MinuteUnix < start.Unix() || m.MinuteUnix > end.Unix() {
				continue
			}
			a := byMinute[m.MinuteUnix]
			if a == nil {
				a = &agg{}
				byMinute[m.MinuteUnix] = a
			}
			a.req += float64(m.Requests)
			a.errs += float64(m.Errors)
			a.p50 = max(a.p50, m.P50Ms)
		}
	}
	minutes := make([]int64, 0, len(byMinute))
	for m := range byMinute {
		minutes = append(minutes, m)
	}
	slices.Sort(minutes)
	req, errs, p50 = []point{}, []point{}, []point{}
	for _, m := range minutes {
		ts := formatTime(time.Unix(m, 0))
		a := byMinute[m]
		req = append(req, point{ts, a.req})
		errs = append(errs, point{ts, a.errs})
		p50 = append(p50, point{ts, a.p50})
	}
	return req, errs, p50
}

func (s *Server) deploymentMetrics(ctx *fasthttp.RequestCtx, d state.Deployment, _ bool) {
	rng := string(ctx.QueryArgs().Peek("range"))
	if rng == "" {
		rng = "24h"
	}
	width, ok := metricRanges[rng]
	if !ok {
		apierr.Write(ctx, apierr.Validation("range %q must be one of 1h, 6h, 24h, 7d, 30d", rng))
		return
	}
	spark := string(ctx.QueryArgs().Peek("sparkline"))
	if spark != "" && spark != "true" && spark != "false" {
		apierr.Write(ctx, apierr.Validation("sparkline %q must be true or false", spark))
		return
	}
	stats, e := s.stats(ctx, d)
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	end := s.now()
	sum := summarize(stats)
	if spark == "true" {
		req, _, _ := series(stats, end.Add(-24*time.Hour), end)
		counts := []float64{}
		for _, p := range req {
			counts = append(counts, p.Value)
		}
		writeJSON(ctx, fasthttp.StatusOK, map[string]any{"requests24h": counts, "totalRequests": sum.TotalRequests,
			"errorRate": sum.ErrorRate, "avgLatencyMs": sum.AvgLatencyMs})
		return
	}
	start := end.Add(-width)
	req, errs, p50 := series(stats, start, end)
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{
		"deploymentId": d.ID, "region": d.Region,
		"timeRange": map[string]string{"start": formatTime(start), "end": formatTime(end)},
		"summary":   sum,
		// NOTE: nodes report only a per-minute median, so the p95 series
		// repeats it, and CPU and memory series are empty.
		"timeSeries": map[string]any{"requests": req, "errors": errs, "latencyP50": p50, "latencyP95": p50,
			"cpuUtilization": []point{}, "memoryUtilization": []point{}, "instanceCount": []point{}},
	})
}

var logSeverities = []string{"DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL", "ALERT", "EMERGENCY"}

func (s *Server) deploymentLogs(ctx *fasthttp.RequestCtx, d state.Deployment, contract bool) {
	limit, e := parseLimit(ctx, 50, 200)
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	want := map[string]bool{}
	if sev := string(ctx.QueryArgs().Peek("severity")); sev != "" {
		for _, v := range strings.Split(sev, ",") {
			if !contains(logSeverities, v) {
				apierr.Write(ctx, apierr.Validation("severity %q must be a comma-separated list of %s", v, strings.Join(logSeverities, ", ")))
				return
			}
			want[v] = true
		}
	}
	stats, e := s.stats(ctx, d)
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	var logs []wire.LogEntry
	for _, st := range stats {
		for _, l := range st.Logs {
			if len(want) == 0 || want[l.Severity] {
				logs = append(logs, l)
			}
		}
	}
	// Newest first; RFC 3339 UTC times sort as strings.
	slices.SortStableFunc(logs, func(a, b wire.LogEntry) int { return strings.Compare(b.Time, a.Time) })
	logs = logs[:min(limit, len(logs))]
	entries := []map[string]any{}
	for _, l := range logs {
		msg := l.Message
		if msg == "" {
			msg = l.Method + " " + l.Path + " " + strconv.Itoa(l.Status)
		}
		entries = append(entries, map[string]any{"timestamp": l.Time, "severity": l.Severity, "message": msg,
			"httpRequest": map[string]any{"method": l.Method, "url": l.Path, "status": l.Status, "latencyMs": l.LatencyMs}})
	}
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"entries": entries})
}

// handleMonitoring aggregates the metrics of every deployment the caller
// can read.
func (s *Server) handleMonitoring(ctx *fasthttp.RequestCtx) {
	var all []wire.DeploymentStats
	active := 0
	deps := s.deploymentsOfCaller(ctx, "", "", "")
	for _, d := range deps {
		if d.Status == state.DeploymentReady {
			active++
		}
		if st, e := s.stats(ctx, d); e == nil {
			all = append(all, st...)
		}
	}
	sum := summarize(all)
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{
		"totalRequests": sum.TotalRequests, "activeDeployments": active, "totalDeployments": len(deps),
		"errorRate": sum.ErrorRate, "avgLatencyMs": sum.AvgLatencyMs,
	})
}
