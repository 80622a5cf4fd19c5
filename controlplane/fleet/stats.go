package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/shared/wire"
)

// DeploymentStats fetches what nodes measured for a deployment: the nodes
// in nodeIDs, where it is placed now, and every other node in the registry,
// because a deployment that moved (after a stop and start, or a node loss)
// keeps its earlier counts on the nodes that served it. Nodes that never
// served it answer 404 and add nothing. Nodes that are unknown or do not
// answer are skipped; the error is set only when no node answered.
func (s *Service) DeploymentStats(ctx context.Context, deploymentID string, nodeIDs []string) ([]wire.DeploymentStats, error) {
	ids := slices.Clone(nodeIDs)
	for _, n := range s.Nodes() {
		if !slices.Contains(ids, n.ID) {
			ids = append(ids, n.ID)
		}
	}
	var out []wire.DeploymentStats
	var lastErr error
	answered := false
	for _, id := range ids {
		addr, ok := s.NodeAddr(id)
		if !ok {
			lastErr = fmt.Errorf("node %s is not in the registry", id)
			continue
		}
		st, found, err := s.fetchStats(ctx, addr, deploymentID)
		if err != nil {
			lastErr = fmt.Errorf("fetch stats from node %s: %w", id, err)
			continue
		}
		answered = true
		if found {
			out = append(out, st)
		}
	}
	if !answered && lastErr != nil {
		return nil, lastErr
	}
	return out, nil
}

// fetchStats returns found false when the node never served the deployment.
func (s *Service) fetchStats(ctx context.Context, addr, deploymentID string) (st wire.DeploymentStats, found bool, err error) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://" + addr + wire.NodePathDeploymentStats + deploymentID)
	req.Header.Set(wire.HeaderSecret, s.cfg.Secret)
	timeout := s.cfg.CallTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(dl))
	}
	if err := s.client.DoTimeout(req, resp, timeout); err != nil {
		return st, false, err
	}
	switch resp.StatusCode() {
	case fasthttp.StatusOK:
	case fasthttp.StatusNotFound:
		return st, false, nil
	default:
		return st, false, fmt.Errorf("status %d: %s", resp.StatusCode(), resp.Body())
	}
	if err := json.Unmarshal(resp.Body(), &st); err != nil {
		return st, false, fmt.Errorf("decode stats: %w", err)
	}
	return st, true, nil
}
