package api

import (
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/shared/ids"
)

// contractOperations are the operations of the published OpenAPI contract
// that this server routes. The value reports whether the contract lists 403
// among the operation's responses. The contract lists 415 for none of them.
// Rejections on these operations use a status the contract lists, so that a
// client generated from it recognizes the response.
var contractOperations = map[route]bool{
	"GET /api/account/summary": false,
	"GET /api/api-keys":        true,
	"GET /api/users":           false,
	"PATCH /api/users":         false,

	"POST /api/projects":                         true,
	"GET /api/projects/{owner}":                  false,
	"GET /api/projects/{owner}/{project}":        false,
	"PATCH /api/projects/{owner}/{project}":      true,
	"DELETE /api/projects/{owner}/{project}":     true,
	"POST /api/projects/{owner}/{project}/clone": true,

	"POST /api/models":                                   true,
	"GET /api/models/{owner}/{project}":                  false,
	"GET /api/models/{owner}/{project}/{model}":          false,
	"PATCH /api/models/{owner}/{project}/{model}":        true,
	"DELETE /api/models/{owner}/{project}/{model}":       true,
	"POST /api/models/{owner}/{project}/{model}/clone":   true,
	"GET /api/models/{owner}/{project}/{model}/files":    false,
	"POST /api/models/{owner}/{project}/{model}/predict": false,

	"GET /api/deployments/{owner}":                       true,
	"POST /api/deployments/{owner}":                      true,
	"GET /api/deployments/{owner}/{deployment}":          true,
	"PATCH /api/deployments/{owner}/{deployment}":        true,
	"DELETE /api/deployments/{owner}/{deployment}":       true,
	"GET /api/deployments/{owner}/{deployment}/health":   true,
	"GET /api/deployments/{owner}/{deployment}/logs":     true,
	"GET /api/deployments/{owner}/{deployment}/metrics":  true,
	"POST /api/deployments/{owner}/{deployment}/predict": true,

	"GET /api/trash":    true,
	"POST /api/trash":   true,
	"DELETE /api/trash": true,
}

// forbiddenStatus is the status of a permission error on r: 403, or 400
// on a contract operation that lists no 403.
func forbiddenStatus(r route) int {
	if lists403, ok := contractOperations[r]; ok && !lists403 {
		return fasthttp.StatusBadRequest
	}
	return fasthttp.StatusForbidden
}

// isContractRequest reports whether the request is one of the
// contractOperations. It matches the path the way the router does: an
// owner segment is never 24 hex characters, the form of a resource ID.
func isContractRequest(ctx *fasthttp.RequestCtx) bool {
	method, path := string(ctx.Method()), string(ctx.Path())
	for r := range contractOperations {
		if routeMatches(r, method, path) {
			return true
		}
	}
	return false
}

func routeMatches(r route, method, path string) bool {
	m, pattern, _ := strings.Cut(string(r), " ")
	if m != method {
		return false
	}
	want, got := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(want) != len(got) {
		return false
	}
	for i, w := range want {
		switch {
		case w == "{owner}":
			if got[i] == "" || ids.IsID(got[i]) {
				return false
			}
		case strings.HasPrefix(w, "{"):
			if got[i] == "" {
				return false
			}
		case w != got[i]:
			return false
		}
	}
	return true
}
