package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/shared/wire"
)

// DeploymentStats fetches what each of nodeIDs measured for a deployment.
// Nodes that are unknown or do not answer are skipped; the error is set
// only when no node answered.
func (s *Service) DeploymentStats(ctx context.Context, deploymentID string, nodeIDs []string) ([]wire.DeploymentStats, error) {
	var out []wire.DeploymentStats
	var lastErr error
	for _, id := range nodeIDs {
		addr, ok := s.NodeAddr(id)
		if !ok {
			lastErr = fmt.Errorf("node %s is not in the registry", id)
			continue
		}
		st, err := s.fetchStats(ctx, addr, deploymentID)
		if err != nil {
			lastErr = fmt.Errorf("fetch stats from node %s: %w", id, err)
			continue
		}
		out = append(out, st)
	}
	if len(out) == 0 && lastErr != nil {
		return nil, lastErr
	}
	return out, nil
}

func (s *Service) fetchStats(ctx context.Context, addr, deploymentID string) (wire.DeploymentStats, error) {
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
		return wire.DeploymentStats{}, err
	}
	if resp.StatusCode() != fasthttp.StatusOK {
		return wire.DeploymentStats{}, fmt.Errorf("status %d: %s", resp.StatusCode(), resp.Body())
	}
	var st wire.DeploymentStats
	if err := json.Unmarshal(resp.Body(), &st); err != nil {
		return wire.DeploymentStats{}, fmt.Errorf("decode stats: %w", err)
	}
	return st, nil
}
