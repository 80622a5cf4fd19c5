package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestControlPlaneRejoinNewAddress restarts a follower under its ID on new
// HTTP and Raft addresses with --join, and checks that it converges into the
// same cluster: three voters, the new addresses, every committed write.
func TestControlPlaneRejoinNewAddress(t *testing.T) {
	vs, key := startThreeVoters(t)
	v := rejoinFollower(t, vs, key, func(v *voterProc) {
		v.listen, v.raft = freeAddr(t), freeAddr(t)
	})
	checkVoters(t, vs, key, v)
}

// TestControlPlaneRejoinWiped deletes a follower's data directory and
// restarts it under the same ID with --join: it must catch up from the
// leader rather than form a second cluster, and lose no committed write.
func TestControlPlaneRejoinWiped(t *testing.T) {
	vs, key := startThreeVoters(t)
	v := rejoinFollower(t, vs, key, func(v *voterProc) {
		if err := os.RemoveAll(v.dataDir); err != nil {
			t.Fatal(err)
		}
	})
	checkVoters(t, vs, key, v)
}

// rejoinFollower writes projects, kills a follower, lets change alter it
// while it is down, writes more, and restarts it with --join through the
// leader. It checks that every acknowledged project is on every node once,
// and that a write through the rejoined node commits.
func rejoinFollower(t *testing.T, vs []*voterProc, key string, change func(*voterProc)) *voterProc {
	t.Helper()
	var want []string
	create := func(slug string, v *voterProc) {
		t.Helper()
		status, _, body, err := request("POST", "http://"+v.listen+"/api/projects", key, []byte(`{"slug":"`+slug+`"}`))
		if err != nil || (status != http.StatusCreated && status != http.StatusOK) {
			t.Fatalf("create %s through %s: status %d, err %v, body %s", slug, v.id, status, err, body)
		}
		want = append(want, slug)
	}
	for i := range 6 {
		create(fmt.Sprintf("before-%d", i), vs[i%3])
	}

	// n1 bootstrapped the cluster, so it holds the secret; read it before
	// a wipe can remove it.
	secret, err := os.ReadFile(filepath.Join(vs[0].dataDir, "cluster.secret"))
	if err != nil {
		t.Fatal(err)
	}
	leader, follower := roles(t, vs)
	follower.kill()
	change(follower)
	for i := range 6 {
		create(fmt.Sprintf("while-down-%d", i), leader)
	}

	startVoterProc(t, buildBinary(t), follower, "--join", "http://"+leader.listen,
		"--cluster-secret", strings.TrimSpace(string(secret)))
	waitFor(t, follower.id+" ready after rejoin", 30*time.Second, func() bool {
		h, err := getHealth("http://" + follower.listen)
		return err == nil && h.Ready
	})
	create("after-rejoin", follower)

	sort.Strings(want)
	for _, v := range vs {
		checkProjects(t, v, key, want)
	}
	return follower
}

// roles returns the node that reports itself leader and one follower.
func roles(t *testing.T, vs []*voterProc) (leader, follower *voterProc) {
	t.Helper()
	waitFor(t, "a leader", 20*time.Second, func() bool {
		leader, follower = nil, nil
		for _, v := range vs {
			h, err := getHealth("http://" + v.listen)
			switch {
			case err != nil:
			case h.Role == "leader":
				leader = v
			default:
				follower = v
			}
		}
		return leader != nil && follower != nil
	})
	return leader, follower
}

// checkVoters checks that every node lists the same three voters, with the
// rejoined node at its current HTTP address, and agrees on one leader.
func checkVoters(t *testing.T, vs []*voterProc, key string, rejoined *voterProc) {
	t.Helper()
	type voter struct {
		ID          string `json:"id"`
		HTTPAddress string `json:"httpAddress"`
	}
	for _, v := range vs {
		var list struct {
			Voters []voter `json:"voters"`
		}
		var body []byte
		waitFor(t, "voter list on "+v.id, 20*time.Second, func() bool {
			status, _, b, err := request("GET", "http://"+v.listen+"/api/admin/cluster/voters", key, nil)
			body = b
			if err != nil || status != http.StatusOK || json.Unmarshal(b, &list) != nil {
				return false
			}
			for _, x := range list.Voters {
				if x.ID == rejoined.id && x.HTTPAddress == rejoined.listen {
					return true
				}
			}
			return false
		})
		if len(list.Voters) != 3 {
			t.Errorf("voters on %s = %s, want three", v.id, body)
		}
	}
	leaders := map[string]bool{}
	for _, v := range vs {
		h, err := getHealth("http://" + v.listen)
		if err != nil {
			t.Fatalf("health of %s: %v", v.id, err)
		}
		leaders[h.Leader] = true
	}
	if len(leaders) != 1 {
		t.Errorf("nodes name %d different leaders %v, want one", len(leaders), leaders)
	}
}
