package api

import (
	"net/http"
	"testing"
)

func TestCreateProjectWithoutName(t *testing.T) {
	e := newEnv(t)
	e.addUser("ada")
	for _, body := range []string{`{}`, `{"name":""}`, `{"description":"x"}`} {
		checkError(t, "create project "+body, e.do("ada", "POST", "/api/projects", body), http.StatusBadRequest, `name is missing`)
	}
}
