package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/yoloplane/yoloplane/controlplane/state"
	"github.com/yoloplane/yoloplane/internal/contract"
	"github.com/yoloplane/yoloplane/internal/testshared"
	"github.com/yoloplane/yoloplane/shared/ids"
)

// contractStatuses returns, for each operation of the published contract as
// "METHOD /path", the response status codes it lists.
func contractStatuses(t *testing.T) map[route]map[int]bool {
	t.Helper()
	raw, err := os.ReadFile(testshared.Path(t, "contract", "openapi.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Responses map[string]json.RawMessage `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("decode the contract: %v", err)
	}
	out := map[route]map[int]bool{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			codes := map[int]bool{}
			for code := range op.Responses {
				var n int
				if _, err := fmt.Sscanf(code, "%d", &n); err == nil {
					codes[n] = true
				}
			}
			out[route(strings.ToUpper(method)+" "+path)] = codes
		}
	}
	return out
}

// statusCase is one request against a route: who sends it, with which
// owner, and with which query and body.
type statusCase struct {
	name, user, owner, project, model, query, body string
}

// statusCases are the common error cases of an owner route and a request
// that should succeed. vic is a viewer of acme; bob is no member of it.
func statusCases(method string) []statusCase {
	cases := []statusCase{
		{name: "valid", user: "ada", owner: "acme", project: "cars", model: "yolo", body: "{}"},
		{name: "no key", user: "", owner: "acme", project: "cars", model: "yolo"},
		{name: "unknown owner", user: "ada", owner: "nobody", project: "cars", model: "yolo", body: "{}"},
		{name: "non-member", user: "bob", owner: "acme", project: "cars", model: "yolo", body: "{}"},
		{name: "unknown project", user: "ada", owner: "acme", project: "missing", model: "yolo", body: "{}"},
		{name: "unknown model", user: "ada", owner: "acme", project: "cars", model: "missing", body: "{}"},
		{name: "viewer", user: "vic", owner: "acme", project: "cars", model: "yolo", body: "{}"},
		{name: "key of another team", user: "ada-lab", owner: "acme", project: "cars", model: "yolo", body: "{}"},
	}
	if method == http.MethodGet {
		cases = append(cases,
			statusCase{name: "limit 0", user: "ada", owner: "acme", project: "cars", model: "yolo", query: "limit=0"},
			statusCase{name: "limit too large", user: "ada", owner: "acme", project: "cars", model: "yolo", query: "limit=100000"})
	} else {
		cases = append(cases,
			statusCase{name: "malformed body", user: "ada", owner: "acme", project: "cars", model: "yolo", body: "{"},
			statusCase{name: "wrong body type", user: "ada", owner: "acme", project: "cars", model: "yolo", body: `{"name":7,"description":[]}`})
	}
	return cases
}

// TestOwnerRouteStatusesInContract walks every owner route the server
// registers that the contract describes, sends each the common error cases
// and a valid request, and checks that every status returned is one the
// contract lists for that operation, with an error body of its shape.
func TestOwnerRouteStatusesInContract(t *testing.T) {
	listed := contractStatuses(t)
	walked := 0
	for _, r := range allRoutes() {
		codes, ok := listed[r]
		if !ok || !strings.Contains(string(r), "{owner}") {
			continue
		}
		walked++
		method, path, _ := strings.Cut(string(r), " ")
		for _, c := range statusCases(method) {
			e := statusEnv(t)
			uri := strings.NewReplacer("{owner}", c.owner, "{project}", c.project, "{model}", c.model).Replace(path)
			if c.query != "" {
				uri += "?" + c.query
			}
			body := c.body
			if method == http.MethodGet || method == http.MethodDelete {
				body = ""
			}
			res := e.do(c.user, method, uri, body)
			if !codes[res.status] {
				t.Errorf("%s, %s: status %d is not listed for this operation (%v): %s", r, c.name, res.status, sortedCodes(codes), res.body)
			}
			if res.status >= 400 {
				contract.Validate(t, "ErrorResponse", res.body)
			}
		}
	}
	if walked < 10 {
		t.Fatalf("walked %d owner routes, want every owner route of the contract", walked)
	}
}

// statusEnv builds a state where ada is the owner of the team workspace acme
// with a project cars and a model yolo, vic is a viewer of acme, and bob is
// a user with no membership there. e.keys["ada-lab"] is ada's key of her
// other team ada-lab, which does not reach acme.
func statusEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t)
	e.addUser("ada")
	e.addUser("vic")
	e.addUser("bob")
	acme := e.must(&state.CreateWorkspace{WorkspaceID: ids.New(), Slug: "acme", Name: "Acme", OwnerID: e.users["ada"], CreatedAt: e.clock()}).(state.Workspace)
	lab := e.must(&state.CreateWorkspace{WorkspaceID: ids.New(), Slug: "ada-lab", Name: "Lab", OwnerID: e.users["ada"], CreatedAt: e.clock()}).(state.Workspace)
	e.keys["ada-lab"] = e.addKey("ada", lab.ID)
	e.must(&state.AddMember{WorkspaceID: acme.ID, UserID: e.users["vic"], Role: state.RoleViewer, CreatedAt: e.clock()})
	e.keys["ada"] = e.addKey("ada", acme.ID)
	e.keys["vic"] = e.addKey("vic", acme.ID)
	e.fill(acme.ID)
	return e
}

// TestContractOperationsTable checks contractOperations against the
// contract: it lists every contract operation this server routes, with
// whether the contract lists 403 for it, and the contract lists 415 for
// none of them, which the JSON body check relies on.
func TestContractOperationsTable(t *testing.T) {
	listed := contractStatuses(t)
	for _, r := range allRoutes() {
		codes, inContract := listed[r]
		lists403, inTable := contractOperations[r]
		switch {
		case inContract && !inTable:
			t.Errorf("contract operation %q is missing from contractOperations", r)
		case !inContract && inTable:
			t.Errorf("contractOperations lists %q, which the contract does not describe", r)
		case inContract && lists403 != codes[http.StatusForbidden]:
			t.Errorf("contractOperations[%q] = %v, but the contract lists 403: %v", r, lists403, codes[http.StatusForbidden])
		}
		if inContract && codes[http.StatusUnsupportedMediaType] {
			t.Errorf("the contract lists 415 for %q: return it there instead of 400", r)
		}
	}
	for r := range contractOperations {
		if !slices.Contains(allRoutes(), r) {
			t.Errorf("contractOperations lists %q, which is not routed", r)
		}
	}
}

func sortedCodes(codes map[int]bool) []int {
	var out []int
	for c := range 600 {
		if codes[c] {
			out = append(out, c)
		}
	}
	return out
}
