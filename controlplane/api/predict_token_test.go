package api

import (
	"net/http"
	"testing"

	"github.com/valyala/fasthttp"
)

// tokenFor issues a predict token for modelID as user.
func (e *env) tokenFor(user, modelID string) string {
	e.t.Helper()
	r := e.do(user, http.MethodPost, "/api/models/"+modelID+"/predict/token", "")
	if r.status != http.StatusOK {
		e.t.Fatalf("issue predict token: status %d: %s", r.status, r.body)
	}
	tok, _ := r.json(e.t)["token"].(string)
	if tok == "" {
		e.t.Fatalf("predict token response has no token: %s", r.body)
	}
	return tok
}

func (e *env) withToken(method, uri, token string) response {
	var req fasthttp.Request
	req.Header.SetMethod(method)
	req.SetRequestURI(uri)
	req.Header.Set("Authorization", "Bearer "+token)
	return e.send(&req)
}

func TestPredictTokenScope(t *testing.T) {
	e := newEnv(t)
	e.addUser("ada")
	m := e.addDeployableModel("ada")
	e.addUser("bob")
	other := e.addDeployableModel("bob")
	tok := e.tokenFor("ada", m.ID)
	mine := "/api/models/" + m.ID + "/predict"

	// Accepted on its model's predict route: no model is loaded in this
	// harness, so authentication passes and the predict gets 503.
	if r := e.withToken(http.MethodPost, mine, tok); r.status != http.StatusServiceUnavailable {
		t.Errorf("token on its predict route: status %d %s, want 503 from the unloaded model", r.status, r.body)
	}
	cases := []struct{ name, method, uri, token string }{
		{"other model", http.MethodPost, "/api/models/" + other.ID + "/predict", tok},
		{"other route", http.MethodGet, "/api/models/" + m.ID, tok},
		{"token route", http.MethodPost, "/api/models/" + m.ID + "/predict/token", tok},
		{"tampered", http.MethodPost, mine, tamper(tok)},
		{"no signature", http.MethodPost, mine, tok[:len(tok)-44]},
	}
	for _, c := range cases {
		r := e.withToken(c.method, c.uri, c.token)
		if r.status != http.StatusUnauthorized {
			t.Errorf("%s: status %d %s, want 401", c.name, r.status, r.body)
			continue
		}
		if msg, _ := r.json(t)["error"].(string); msg == "" || len(r.header.Peek("X-Error-Code")) == 0 {
			t.Errorf("%s: body %s, want an error message and X-Error-Code", c.name, r.body)
		}
	}
}

func TestPredictTokenExpires(t *testing.T) {
	e := newEnv(t)
	e.addUser("ada")
	m := e.addDeployableModel("ada")
	tok := e.tokenFor("ada", m.ID)
	e.advance(PredictTokenTTL - 1)
	if r := e.withToken(http.MethodPost, "/api/models/"+m.ID+"/predict", tok); r.status == http.StatusUnauthorized {
		t.Fatalf("token just before expiry: status 401 %s", r.body)
	}
	e.advance(1)
	r := e.withToken(http.MethodPost, "/api/models/"+m.ID+"/predict", tok)
	if r.status != http.StatusUnauthorized {
		t.Fatalf("expired token: status %d %s, want 401", r.status, r.body)
	}
}

// tamper changes one character of a token's signature to a different one.
// It avoids the last character, whose low bits base64 decoding ignores.
func tamper(tok string) string {
	i := len(tok) - 5
	c := byte('x')
	if tok[i] == c {
		c = 'y'
	}
	return tok[:i] + string(c) + tok[i+1:]
}
