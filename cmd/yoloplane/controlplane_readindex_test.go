package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
)

// TestControlPlaneKeyUsableEverywhere creates API keys through the leader
// and uses each one on every follower at once, with no wait for
// replication: a follower that misses the key's hash must catch up with the
// leader before it answers 401.
func TestControlPlaneKeyUsableEverywhere(t *testing.T) {
	vs, admin := startThreeVoters(t)
	leader, _ := roles(t, vs)
	for i := range 20 {
		status, _, body, err := request("POST", "http://"+leader.listen+"/api/api-keys", admin,
			[]byte(fmt.Sprintf(`{"name":"fresh-%d"}`, i)))
		if err != nil || status != http.StatusCreated {
			t.Fatalf("create key %d: status %d, err %v: %s", i, status, err, body)
		}
		var created struct{ Key string }
		if err := json.Unmarshal(body, &created); err != nil || created.Key == "" {
			t.Fatalf("create key %d: %v: %s", i, err, body)
		}
		for _, v := range vs {
			if v == leader {
				continue
			}
			status, _, body, err := request("GET", "http://"+v.listen+"/api/projects", created.Key, nil)
			if err != nil || status != http.StatusOK {
				t.Errorf("key %d on follower %s right after creation: status %d, err %v: %s", i, v.id, status, err, body)
			}
		}
	}
}
