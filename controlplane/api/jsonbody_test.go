package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// doTyped sends a request as user with the Content-Type header set to
// contentType, or no Content-Type header when it is empty.
func (e *env) doTyped(user, method, uri, contentType, body string) response {
	var req fasthttp.Request
	req.Header.SetMethod(method)
	req.SetRequestURI(uri)
	req.Header.Set("Authorization", "Bearer "+e.keys[user])
	if contentType != "" {
		req.Header.SetContentType(contentType)
	} else {
		req.Header.SetNoDefaultContentType(true)
	}
	req.SetBodyString(body)
	return e.send(&req)
}

func TestJSONBodyErrors(t *testing.T) {
	e := newEnv(t)
	e.addUser("ada")
	e.addUser("bob")
	for _, c := range []struct {
		name, method, path, body, hint string
	}{
		{"array", "POST", "/api/settings", `[]`, "request body must be a JSON object, got an array"},
		{"string", "POST", "/api/settings", `"bio"`, "request body must be a JSON object, got a string"},
		{"number", "POST", "/api/settings", ` 5`, "request body must be a JSON object, got a number"},
		{"null", "POST", "/api/settings", `null`, "request body must be a JSON object, got null"},
		{"boolean", "POST", "/api/settings", `true`, "request body must be a JSON object, got a boolean"},
		{"string field", "POST", "/api/settings", `{"bio":5}`, `field "bio" must be a string, got a number`},
		{"map values", "POST", "/api/settings", `{"socials":{"github":3}}`, `field "socials" must be a JSON object whose values are each a string, got a number`},
		{"map itself", "POST", "/api/settings", `{"socials":["a"]}`, `field "socials" must be a JSON object, got an array`},
		{"boolean field", "PATCH", "/api/users", `{"username":"bob","followed":"yes"}`, `field "followed" must be true or false, got a string`},
		{"role", "POST", "/api/api-keys", `{"name":{"a":1}}`, `field "name" must be a string, got an object`},
		{"trailing garbage", "POST", "/api/settings", `{"bio":"a"} x`, "request body has extra data after the JSON object"},
		{"second object", "POST", "/api/settings", `{"bio":"a"}{"bio":"b"}`, "request body has extra data after the JSON object"},
		{"truncated", "POST", "/api/settings", `{"bio":"a"`, "request body ends inside the JSON object"},
		{"syntax", "POST", "/api/settings", `{"bio":}`, "request body is not valid JSON at byte 8: invalid character '}'"},
		{"not JSON", "POST", "/api/settings", `bio=a`, "request body is not valid JSON at byte 1"},
		{"missing", "POST", "/api/settings", ``, "request body is missing: send a JSON object"},
		{"invalid UTF-8", "POST", "/api/settings", "{\"bio\":\"bad\xff\xfe\"}", "request body is not valid UTF-8"},
		{"NUL character", "POST", "/api/settings", `{"bio":"a\u0000b"}`, "NUL character"},
	} {
		res := e.do("ada", c.method, c.path, c.body)
		checkError(t, c.name, res, http.StatusBadRequest, c.hint)
		for _, internal := range []string{"Go ", "struct", "json:", "unmarshal"} {
			if strings.Contains(string(res.body), internal) {
				t.Errorf("%s: error %s shows Go internals (%q)", c.name, res.body, internal)
			}
		}
	}
	if set := e.fsm.Settings(e.users["ada"]); set.Bio != "" {
		t.Errorf("bio = %q after rejected requests, want it unchanged", set.Bio)
	}
}

func TestJSONBodyAccepted(t *testing.T) {
	e := newEnv(t)
	e.addUser("ada")
	for _, c := range []struct{ name, contentType, body string }{
		{"no Content-Type", "", `{"bio":"a"}`},
		{"application/json", "application/json", `{"bio":"b"}`},
		{"charset parameter", "application/json; charset=utf-8", `{"bio":"c"}`},
		{"upper case", "Application/JSON", `{"bio":"d"}`},
		{"structured suffix", "application/merge-patch+json", `{"bio":"e"}`},
		{"text/plain", "text/plain;charset=UTF-8", `{"bio":"f"}`},
		{"octet-stream", "application/octet-stream", `{"bio":"g"}`},
		{"unknown field", "application/json", `{"bio":"h","favoriteColor":"teal"}`},
		{"trailing whitespace", "application/json", "\n{\"bio\":\"i\"}\r\n\t "},
	} {
		res := e.doTyped("ada", "POST", "/api/settings", c.contentType, c.body)
		if res.status != http.StatusOK {
			t.Errorf("%s: status %d, want 200: %s", c.name, res.status, res.body)
			continue
		}
		if got := e.fsm.Settings(e.users["ada"]).Bio; !strings.Contains(c.body, `"`+got+`"`) {
			t.Errorf("%s: bio = %q, want the one sent", c.name, got)
		}
	}
	// A request without a body has no format to reject.
	res := e.doTyped("ada", "POST", "/api/api-keys", "application/x-www-form-urlencoded", "")
	if res.status != http.StatusCreated {
		t.Errorf("create key without a body, typed as a form: status %d, want 201: %s", res.status, res.body)
	}
}

func TestJSONBodyContentTypeRejected(t *testing.T) {
	e := newEnv(t)
	e.addUser("ada")
	if res := e.do("ada", "POST", "/api/projects", `{"project":"cars","name":"Cars"}`); res.status != http.StatusCreated {
		t.Fatalf("create project: status %d: %s", res.status, res.body)
	}
	multipart := "--x\r\nContent-Disposition: form-data; name=\"bio\"\r\n\r\na\r\n--x--\r\n"
	for _, c := range []struct {
		name, method, path, contentType, body string
		status                                int
		hint                                  string
	}{
		{"multipart", "POST", "/api/settings", "multipart/form-data; boundary=x", multipart, http.StatusUnsupportedMediaType,
			"Content-Type multipart/form-data is not supported here: send the JSON object with Content-Type: application/json"},
		{"form", "POST", "/api/settings", "application/x-www-form-urlencoded", "bio=a", http.StatusUnsupportedMediaType,
			`curl -d sends application/x-www-form-urlencoded unless you add -H "Content-Type: application/json"`},
		{"xml", "POST", "/api/api-keys", "application/xml", "<key/>", http.StatusUnsupportedMediaType,
			"Content-Type application/xml is not supported here"},
		{"invalid type", "POST", "/api/settings", ";charset=utf-8", `{"bio":"a"}`, http.StatusUnsupportedMediaType,
			`Content-Type ";charset=utf-8" is invalid`},
		// The contract lists no 415, so its operations return 400.
		{"form on a contract route", "POST", "/api/projects", "application/x-www-form-urlencoded", "project=cars", http.StatusBadRequest,
			"Content-Type application/x-www-form-urlencoded is not supported here"},
		{"multipart on a contract owner route", "PATCH", "/api/projects/ada/cars", "multipart/form-data; boundary=x", multipart, http.StatusBadRequest,
			"Content-Type multipart/form-data is not supported here"},
	} {
		res := e.doTyped("ada", c.method, c.path, c.contentType, c.body)
		checkError(t, c.name, res, c.status, c.hint)
		wantCode := "UNSUPPORTED_MEDIA_TYPE"
		if c.status == http.StatusBadRequest {
			wantCode = "VALIDATION_ERROR"
		}
		if got := string(res.header.Peek("X-Error-Code")); got != wantCode {
			t.Errorf("%s: X-Error-Code %q, want %s", c.name, got, wantCode)
		}
	}
	if set := e.fsm.Settings(e.users["ada"]); set.Bio != "" {
		t.Errorf("bio = %q after rejected requests, want it unchanged", set.Bio)
	}
}

func TestRouteMatches(t *testing.T) {
	id := "0123456789abcdef01234567"
	for _, c := range []struct {
		r            route
		method, path string
		want         bool
	}{
		{"POST /api/projects", "POST", "/api/projects", true},
		{"POST /api/projects", "GET", "/api/projects", false},
		{"PATCH /api/projects/{owner}/{project}", "PATCH", "/api/projects/ada/cars", true},
		{"PATCH /api/projects/{owner}/{project}", "PATCH", "/api/projects/ada", false},
		{"POST /api/models/{owner}/{project}/{model}/clone", "POST", "/api/models/ada/cars/yolo/clone", true},
		{"POST /api/models/{owner}/{project}/{model}/clone", "POST", "/api/models/" + id + "/cars/yolo/clone", false},
		{"GET /api/models/{owner}/{project}", "GET", "/api/models/" + id + "/files", false},
		{"GET /api/projects/{owner}", "GET", "/api/projects/", false},
	} {
		if got := routeMatches(c.r, c.method, c.path); got != c.want {
			t.Errorf("routeMatches(%q, %s %s) = %v, want %v", c.r, c.method, c.path, got, c.want)
		}
	}
}
