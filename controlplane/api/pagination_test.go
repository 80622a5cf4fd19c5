package api

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// TestProjectPagesStableUnderChanges pages through a project list while
// projects are created and deleted between pages. Every project that exists
// for the whole walk must appear exactly once: the cursor may neither repeat
// an item nor skip one because the list shifted under it.
func TestProjectPagesStableUnderChanges(t *testing.T) {
	e := newEnv(t)
	e.addUser("ada")
	create := func(slug string) {
		t.Helper()
		e.advance(time.Second)
		if res := e.do("ada", "POST", "/api/projects", `{"project":"`+slug+`","name":"`+slug+`"}`); res.status != http.StatusCreated {
			t.Fatalf("create %s: status %d: %s", slug, res.status, res.body)
		}
	}
	remove := func(slug string) {
		t.Helper()
		if res := e.do("ada", "DELETE", "/api/projects/ada/"+slug, ""); res.status != http.StatusOK {
			t.Fatalf("delete %s: status %d: %s", slug, res.status, res.body)
		}
	}
	for i := range 12 {
		create(fmt.Sprintf("p%02d", i))
	}

	seen := map[string]int{}
	var order []string
	deleted := map[string]bool{}
	cursor := ""
	for page := 0; ; page++ {
		if page > 20 {
			t.Fatalf("no end of the list after %d pages: %v", page, order)
		}
		res := e.do("ada", "GET", "/api/projects?limit=3&cursor="+url.QueryEscape(cursor), "")
		if res.status != http.StatusOK {
			t.Fatalf("page %d: status %d: %s", page, res.status, res.body)
		}
		body := res.json(t)
		for _, p := range body["projects"].([]any) {
			slug := p.(map[string]any)["slug"].(string)
			seen[slug]++
			order = append(order, slug)
		}
		next, _ := body["nextCursor"].(string)
		if next == "" {
			break
		}
		cursor = next
		// Change the list on both sides of the cursor: one project already
		// returned and one not yet returned go, and a new one comes.
		if len(order) > 0 && !deleted[order[0]] {
			remove(order[0])
			deleted[order[0]] = true
		}
		late := fmt.Sprintf("p%02d", 11-page)
		if seen[late] == 0 && !deleted[late] && page < 3 {
			remove(late)
			deleted[late] = true
		}
		create(fmt.Sprintf("new-%d", page))
	}

	for slug, n := range seen {
		if n > 1 {
			t.Errorf("project %s returned %d times, want once: order %v", slug, n, order)
		}
	}
	for i := range 12 {
		slug := fmt.Sprintf("p%02d", i)
		if !deleted[slug] && seen[slug] != 1 {
			t.Errorf("project %s that existed for the whole walk was returned %d times, want once: order %v", slug, seen[slug], order)
		}
	}
}
