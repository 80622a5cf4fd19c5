package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/controlplane/raftnode"
	"github.com/yoloplane/yoloplane/controlplane/state"
	"github.com/yoloplane/yoloplane/shared/apierr"
	"github.com/yoloplane/yoloplane/shared/httpserver"
)

// handleJoin adds a voter. A follower passes the request on to the leader,
// so a joining node may name any voter in --join.
func (c *Cluster) handleJoin(ctx *fasthttp.RequestCtx) {
	var req JoinRequest
	if err := json.Unmarshal(ctx.PostBody(), &req); err != nil || req.ID == "" || req.RaftAddr == "" {
		apierr.Write(ctx, apierr.Validation("join request needs id and raftAddr as JSON strings"))
		return
	}
	if err := c.addVoter(ctx, req); err != nil {
		writeMembershipError(ctx, err)
		return
	}
	writeJSON(ctx, map[string]string{"status": "joined", "id": req.ID})
}

// addVoter adds req's node on the leader, or passes req on to the leader.
func (c *Cluster) addVoter(ctx context.Context, req JoinRequest) error {
	if !c.node.IsLeader() {
		return c.relay(ctx, pathJoin, req)
	}
	if e := c.checkIDFree(req); e != nil {
		return e
	}
	if err := c.node.AddVoter(req.ID, req.RaftAddr); err != nil {
		return err
	}
	if req.HTTPAddr == "" {
		return nil
	}
	_, err := c.node.Apply(ctx, &state.SetNodeAddr{NodeID: req.ID, HTTPAddr: req.HTTPAddr})
	return err
}

// checkIDFree refuses a join that names the ID of a voter that is running
// at another Raft address. A join under an existing ID otherwise moves
// that voter to the new address. That is right for a voter restarted on a
// new address. For a second node started with the same ID it is wrong,
// because the running voter would drop out of the configuration.
func (c *Cluster) checkIDFree(req JoinRequest) *apierr.Error {
	servers, err := c.node.Servers()
	if err != nil {
		return nil
	}
	for _, s := range servers {
		if s.ID != req.ID || s.Addr == req.RaftAddr {
			continue
		}
		httpAddr, ok := c.fsm.NodeHTTPAddr(req.ID)
		if !ok || httpAddr == req.HTTPAddr || !c.answersAs(httpAddr, req.ID) {
			return nil
		}
		return apierr.New(http.StatusConflict, apierr.CodeConflict,
			"node ID %q belongs to a running voter at %s (raft %s): start this node with another --node-id, or stop that voter first",
			req.ID, httpAddr, s.Addr)
	}
	return nil
}

// answersAs reports whether the health check of the node at httpAddr
// returns nodeID.
func (c *Cluster) answersAs(httpAddr, nodeID string) bool {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://" + httpAddr + "/health")
	if err := c.client.DoTimeout(req, resp, healthProbeTimeout); err != nil {
		return false
	}
	var h struct {
		NodeID string `json:"nodeId"`
	}
	return json.Unmarshal(resp.Body(), &h) == nil && h.NodeID == nodeID
}

// healthProbeTimeout bounds the health check of a voter whose ID a joining
// node reuses.
const healthProbeTimeout = 2 * time.Second

func (c *Cluster) handleRemove(ctx *fasthttp.RequestCtx) {
	var req JoinRequest
	if err := json.Unmarshal(ctx.PostBody(), &req); err != nil || req.ID == "" {
		apierr.Write(ctx, apierr.Validation("remove request needs id as a JSON string"))
		return
	}
	if err := c.removeVoter(ctx, req.ID); err != nil {
		writeMembershipError(ctx, err)
		return
	}
	writeJSON(ctx, map[string]string{"status": "removed", "id": req.ID})
}

func (c *Cluster) removeVoter(ctx context.Context, id string) error {
	if !c.node.IsLeader() {
		return c.relay(ctx, pathRemove, JoinRequest{ID: id})
	}
	return c.node.RemoveServer(id)
}

// relay sends a membership request to the leader.
func (c *Cluster) relay(ctx context.Context, path string, req JoinRequest) error {
	payload, err := json.Marshal(req)
	if err != nil {
		return err
	}
	body, status, err := c.call(ctx, path, payload)
	if err != nil {
		return err
	}
	if status != fasthttp.StatusOK {
		// The leader's error is passed on as it is, not wrapped in another
		// JSON string.
		code := apierr.CodeServiceUnavailable
		switch status {
		case fasthttp.StatusConflict:
			code = apierr.CodeConflict
		case fasthttp.StatusForbidden:
			code = apierr.CodeForbidden
		case fasthttp.StatusBadRequest:
			code = apierr.CodeValidation
		}
		return apierr.New(status, code, "%s", errorMessage(body))
	}
	return nil
}

func writeMembershipError(ctx *fasthttp.RequestCtx, err error) {
	if e := (*apierr.Error)(nil); errors.As(err, &e) {
		apierr.Write(ctx, e)
		return
	}
	if errors.Is(err, raftnode.ErrNotLeader) {
		apierr.Write(ctx, apierr.New(http.StatusServiceUnavailable, apierr.CodeServiceUnavailable,
			"no raft leader is reachable: %v; retry once a leader is elected", err))
		return
	}
	apierr.Write(ctx, apierr.New(http.StatusServiceUnavailable, apierr.CodeServiceUnavailable,
		"membership change failed: %v", err))
}

// routeAdmin serves GET and POST on /api/admin/cluster/voters and DELETE
// on /api/admin/cluster/voters/{id}. rest is the path after the prefix.
func (c *Cluster) routeAdmin(ctx *fasthttp.RequestCtx, rest string) {
	if e := c.cfg.Admin(ctx); e != nil {
		apierr.Write(ctx, e)
		return
	}
	method := string(ctx.Method())
	id := strings.TrimPrefix(rest, "/")
	switch {
	case rest == "" && method == fasthttp.MethodGet:
		c.handleListVoters(ctx)
	case rest == "" && method == fasthttp.MethodPost:
		c.handleAddVoter(ctx)
	case id != "" && !strings.Contains(id, "/") && method == fasthttp.MethodDelete:
		c.handleDeleteVoter(ctx, id)
	default:
		apierr.Write(ctx, apierr.NotFound("no route for %s %s%s", method, adminVotersPath, rest))
	}
}

func (c *Cluster) handleListVoters(ctx *fasthttp.RequestCtx) {
	servers, err := c.node.Servers()
	if err != nil {
		writeMembershipError(ctx, err)
		return
	}
	voters := make([]Voter, 0, len(servers))
	for _, s := range servers {
		httpAddr, _ := c.fsm.NodeHTTPAddr(s.ID)
		voters = append(voters, Voter{ID: s.ID, Address: s.Addr, HTTPAddr: httpAddr, Suffrage: s.Suffrage, Leader: s.Leader})
	}
	writeJSON(ctx, map[string]any{"voters": voters, "total": len(voters)})
}

func (c *Cluster) handleAddVoter(ctx *fasthttp.RequestCtx) {
	var body struct {
		ID       string `json:"id"`
		Address  string `json:"address"`
		HTTPAddr string `json:"httpAddress"`
	}
	raw, e := httpserver.ReadBody(ctx, maxInternalBody)
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	if err := json.Unmarshal(raw, &body); err != nil || body.ID == "" || body.Address == "" {
		apierr.Write(ctx, apierr.Validation(`send {"id": "node ID", "address": "raft host:port"} with an optional "httpAddress"`))
		return
	}
	if err := c.addVoter(ctx, JoinRequest{ID: body.ID, RaftAddr: body.Address, HTTPAddr: body.HTTPAddr}); err != nil {
		writeMembershipError(ctx, err)
		return
	}
	ctx.SetStatusCode(fasthttp.StatusCreated)
	writeJSON(ctx, Voter{ID: body.ID, Address: body.Address, HTTPAddr: body.HTTPAddr, Suffrage: "Voter"})
}

func (c *Cluster) handleDeleteVoter(ctx *fasthttp.RequestCtx, id string) {
	if err := c.removeVoter(ctx, id); err != nil {
		writeMembershipError(ctx, err)
		return
	}
	writeJSON(ctx, map[string]any{"id": id, "deleted": true})
}

// AdminByUsername returns an admin check that lets in callers whose API key
// belongs to the user named username. hashKey turns a presented key into
// its stored hash.
func AdminByUsername(fsm *state.FSM, username string, hashKey func(string) string) func(*fasthttp.RequestCtx) *apierr.Error {
	return func(ctx *fasthttp.RequestCtx) *apierr.Error {
		token, ok := strings.CutPrefix(string(ctx.Request.Header.Peek(fasthttp.HeaderAuthorization)), "Bearer ")
		if !ok || token == "" {
			return apierr.Unauthorized("missing API key: send the header Authorization: Bearer ul_...")
		}
		key, found := fsm.KeyByHash(hashKey(strings.ToLower(strings.TrimSpace(token))))
		if !found || key.Revoked {
			return apierr.Unauthorized("invalid or revoked API key")
		}
		user, ok := fsm.UserByID(key.UserID)
		if !ok || user.Username != username {
			return apierr.New(http.StatusForbidden, apierr.CodeForbidden, "cluster administration needs the API key of the %s user", username)
		}
		return nil
	}
}

// PeerURLs returns the base URLs of the other voters whose HTTP address is
// recorded in the replicated state. A voter whose address is not recorded
// yet is left out. The fleet controller calls it to relay heartbeats.
func (c *Cluster) PeerURLs() []string {
	servers, err := c.node.Servers()
	if err != nil {
		return nil
	}
	var urls []string
	for _, s := range servers {
		if s.ID == c.node.ID() {
			continue
		}
		if addr, ok := c.fsm.NodeHTTPAddr(s.ID); ok {
			urls = append(urls, "http://"+addr)
		}
	}
	return urls
}
