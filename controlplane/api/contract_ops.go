package api

import "github.com/valyala/fasthttp"

// contractOperations are the operations of the published OpenAPI contract
// that this server routes. The value reports whether the contract lists 403
// among the operation's responses. Rejections on these operations use a
// status the contract lists, so that a client generated from it recognizes
// the response.
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
