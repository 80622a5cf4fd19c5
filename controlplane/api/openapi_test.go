package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestOpenAPIListsEveryRoute(t *testing.T) {
	e := newEnv(t)
	res := e.do("", "GET", "/api/openapi.json", "")
	if res.status != http.StatusOK {
		t.Fatalf("openapi.json: status %d: %s", res.status, res.body)
	}
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(res.body, &doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi version %q, want 3.x", doc.OpenAPI)
	}
	listed := 0
	for path, ops := range doc.Paths {
		for method := range ops {
			listed++
			r := route(strings.ToUpper(method) + " " + path)
			if !slices.Contains(allRoutes(), r) {
				t.Errorf("document lists %q, which is not a route", r)
			}
		}
	}
	if listed != len(allRoutes()) {
		t.Errorf("document lists %d operations, the route tables %d", listed, len(allRoutes()))
	}
}

// TestEveryListedRouteIsRouted sends each documented operation with
// placeholder parameters and checks that a handler, not the router's
// fallback, answered.
func TestEveryListedRouteIsRouted(t *testing.T) {
	e := newEnv(t)
	e.addUser("ada")
	for _, r := range allRoutes() {
		method, path, _ := strings.Cut(string(r), " ")
		uri := pathParam.ReplaceAllStringFunc(path, func(p string) string {
			if strings.HasSuffix(p, "Id}") {
				return "0123456789abcdef01234567"
			}
			return "ada"
		})
		res := e.do("ada", method, uri, "")
		if res.status == http.StatusMethodNotAllowed || strings.Contains(string(res.body), "no route for") {
			t.Errorf("%s: status %d %s, want a handler to answer", r, res.status, res.body)
		}
	}
}
