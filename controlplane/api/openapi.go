package api

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"

	"github.com/fasthttp/router"
	"github.com/valyala/fasthttp"
)

// registerAccountRoutes adds the account, team, member, invite and API
// description routes to r.
func (s *Server) registerAccountRoutes(r *router.Router) {
	r.GET("/api/users", s.auth(s.handleGetUser))
	r.PATCH("/api/users", s.auth(s.personalKeyOnly("PATCH /api/users", s.handleFollowUser)))
	r.GET("/api/username/check", s.auth(s.handleUsernameCheck))
	r.GET("/api/settings", s.auth(s.personalKeyOnly("GET /api/settings", s.handleGetSettings)))
	r.POST("/api/settings", s.auth(s.personalKeyOnly("POST /api/settings", s.handleUpdateSettings)))
	r.GET("/api/account/summary", s.auth(s.handleAccountSummary))
	r.GET("/api/teams", s.auth(s.handleListTeams))
	r.POST("/api/teams/create", s.auth(s.personalKeyOnly("POST /api/teams/create", s.handleCreateTeam)))
	r.GET("/api/members", s.auth(s.handleListMembers))
	r.POST("/api/members", s.auth(s.handleAddMember))
	r.PATCH("/api/members/{userId}", s.auth(s.handleUpdateMember))
	r.DELETE("/api/members/{userId}", s.auth(s.handleRemoveMember))
	r.POST("/api/members/transfer-ownership", s.auth(handleTransferOwnership))
	r.GET("/api/invites/info", s.whenReady(s.handleInviteInfo))
	r.POST("/api/invites/accept", s.authOptional(s.personalKeyOnly("POST /api/invites/accept", s.handleAcceptInvite)))
	r.DELETE("/api/invites/{inviteId}", s.auth(s.handleRevokeInvite))
	r.POST("/api/invites/{inviteId}/resend", s.auth(s.handleResendInvite))
	r.POST("/api/settings/icon", s.auth(s.personalKeyOnly("POST /api/settings/icon", s.handleUploadAvatar)))
	r.DELETE("/api/settings/icon", s.auth(s.personalKeyOnly("DELETE /api/settings/icon", s.handleRemoveAvatar)))
	r.GET("/api/users/{userId}/icon", s.whenReady(s.handleGetAvatar))
	r.GET("/api/openapi.json", s.handleOpenAPI)
}

// handleOpenAPI serves an OpenAPI document generated from the route
// tables, so that it lists exactly the operations this server routes.
func (s *Server) handleOpenAPI(ctx *fasthttp.RequestCtx) {
	s.openAPIOnce.Do(func() {
		body, err := json.Marshal(openAPIDocument(s.cfg.Version))
		if err != nil {
			panic("BUG: the generated OpenAPI document does not encode: " + err.Error())
		}
		s.openAPI = body
	})
	ctx.SetContentType("application/json")
	ctx.SetBody(s.openAPI)
}

var pathParam = regexp.MustCompile(`\{([A-Za-z]+)\}`)

// allRoutes returns every routed operation, sorted.
func allRoutes() []route {
	out := slices.Concat(accountRoutes, publicRoutes)
	for r := range routeRoles {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

// openAPIDocument describes every routed operation: its path parameters,
// the role it needs, and the error body shared by all failures. Response
// bodies other than errors are described as free-form objects.
//
// NOTE: an ID route and an owner route of the same shape, such as
// /api/projects/{projectId} and /api/projects/{owner}, are listed as two
// paths. OpenAPI tools that require distinct templates may merge or reject
// them; the ID parameter's pattern tells them apart.
func openAPIDocument(version string) map[string]any {
	paths := map[string]map[string]any{}
	for _, r := range allRoutes() {
		method, path, _ := strings.Cut(string(r), " ")
		if paths[path] == nil {
			paths[path] = map[string]any{}
		}
		paths[path][strings.ToLower(method)] = operation(r, path)
	}
	errorResponse := map[string]any{"$ref": "#/components/schemas/ErrorResponse"}
	return map[string]any{
		"openapi": "3.1.0",
		"info":    map[string]any{"title": "Yoloplane API", "version": version},
		"paths":   paths,
		"components": map[string]any{
			"schemas": map[string]any{"ErrorResponse": map[string]any{
				"type": "object", "required": []string{"error"}, "additionalProperties": false,
				"properties": map[string]any{"error": map[string]any{"type": "string"}},
			}},
			"securitySchemes": map[string]any{"BearerAuth": map[string]any{"type": "http", "scheme": "bearer"}},
			"responses": map[string]any{"Error": map[string]any{
				"description": "Error; the X-Error-Code header carries the machine-readable code",
				"content":     map[string]any{"application/json": map[string]any{"schema": errorResponse}},
			}},
		},
		"security": []any{map[string]any{"BearerAuth": []string{}}},
	}
}

func operation(r route, path string) map[string]any {
	errRef := map[string]any{"$ref": "#/components/responses/Error"}
	op := map[string]any{
		"operationId": operationID(r),
		"responses": map[string]any{
			"200":     map[string]any{"description": "Success", "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}},
			"default": errRef,
		},
	}
	if params := pathParameters(path); len(params) > 0 {
		op["parameters"] = params
	}
	switch {
	case slices.Contains(publicRoutes, r):
		op["security"] = []any{}
	case personalKeyRoutes[r] != "":
		op["x-required-role"] = "any authenticated user, with a key of the personal workspace"
	case slices.Contains(accountRoutes, r):
		op["x-required-role"] = "any authenticated user"
	default:
		op["x-required-role"] = string(routeRoles[r])
	}
	return op
}

func pathParameters(path string) []map[string]any {
	var params []map[string]any
	for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
		schema := map[string]any{"type": "string"}
		if strings.HasSuffix(m[1], "Id") {
			schema["pattern"] = "^[0-9a-fA-F]{24}$"
		}
		params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": schema})
	}
	return params
}

// operationID turns "POST /api/models/{modelId}/clone" into
// "post_api_models_modelId_clone".
func operationID(r route) string {
	method, path, _ := strings.Cut(string(r), " ")
	id := strings.ToLower(method) + strings.NewReplacer("/", "_", "{", "", "}", "", ".", "_", "-", "_").Replace(path)
	return id
}
