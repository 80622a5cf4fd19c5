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

func TestCreateTeamErrorsNameTheField(t *testing.T) {
	e := newEnv(t)
	e.addUser("ada")
	checkError(t, "team without a name", e.do("ada", "POST", "/api/teams/create", `{}`), http.StatusBadRequest, "name is missing")
	checkError(t, "short team slug", e.do("ada", "POST", "/api/teams/create", `{"name":"ab"}`), http.StatusBadRequest, "slug must be 4 to 32 characters long")
}
