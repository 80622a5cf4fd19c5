package fleet

import "github.com/yoloplane/yoloplane/controlplane/state"

// ModelAddrs returns the HTTP addresses of the live nodes that report a
// running deployment of the model file with the given SHA-256 ready, each
// once, least loaded first. The REST API forwards model predicts to them
// so that they run on a warm session instead of in the control plane.
func (s *Service) ModelAddrs(sha256 string) []string {
	if sha256 == "" {
		return nil
	}
	var nodes []Node
	seen := map[string]bool{}
	for _, d := range s.fsm.Deployments("") {
		if d.Desired != state.DesiredRunning || d.Model.SHA256 != sha256 {
			continue
		}
		for _, id := range d.Nodes {
			n, ok := s.node(id)
			if ok && n.Live && !seen[id] && !s.isSuspect(id) && n.Deployments[d.ID] == "ready" {
				seen[id] = true
				nodes = append(nodes, n)
			}
		}
	}
	sortByLoad(nodes)
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.HTTPAddr
	}
	return out
}

// Secret returns the cluster secret, which the REST API sends on the
// nodes' internal model routes.
func (s *Service) Secret() string { return s.cfg.Secret }
