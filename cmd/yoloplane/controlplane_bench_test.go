package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestControlPlaneWriteThroughput measures project creates through the
// REST API of a three-voter loopback cluster, with clients spread over the
// nodes and every entry fsynced. It runs only with YOLOPLANE_CP_BENCH=1,
// because it takes about 20 seconds and its numbers depend on the disk.
// YOLOPLANE_CP_BENCH_ARGS adds voter flags, such as Raft timeouts.
func TestControlPlaneWriteThroughput(t *testing.T) {
	if os.Getenv("YOLOPLANE_CP_BENCH") != "1" {
		t.Skip("set YOLOPLANE_CP_BENCH=1 to measure write throughput")
	}
	extra := append([]string{"--rate-limits=false"}, strings.Fields(os.Getenv("YOLOPLANE_CP_BENCH_ARGS"))...)
	vs, key := startThreeVoters(t, extra...)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	// The first level sends to the leader (n1, the bootstrap voter) and
	// the second to a follower, which forwards every write.
	levels := []struct{ clients, first int }{{1, 0}, {1, 1}, {16, 0}, {64, 0}}
	for _, l := range levels {
		n, lat := runCreates(t, client, vs, key, l.clients, l.first, 5*time.Second)
		slices.Sort(lat)
		t.Logf("%2d clients from n%d: %6.0f creates/s, p50 %v, p99 %v (%d creates)", l.clients, l.first+1, float64(n)/5,
			lat[len(lat)/2].Round(10*time.Microsecond), lat[len(lat)*99/100].Round(10*time.Microsecond), n)
	}
}

// runCreates runs clients closed-loop creators for d, client i sending to
// node (first+i) mod 3, and returns the creates acknowledged and their latencies.
func runCreates(t *testing.T, client *http.Client, vs []*voterProc, key string, clients, first int, d time.Duration) (int, []time.Duration) {
	t.Helper()
	var mu sync.Mutex
	var all []time.Duration
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	for c := range clients {
		wg.Go(func() {
			var lat []time.Duration
			url := "http://" + vs[(first+c)%3].listen + "/api/projects"
			for i := 0; time.Now().Before(deadline); i++ {
				body := fmt.Sprintf(`{"slug":"b%d-%d-%d-%d"}`, clients, first, c, i)
				req, _ := http.NewRequest("POST", url, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+key)
				req.Header.Set("Content-Type", "application/json")
				start := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					t.Errorf("create: %v", err)
					return
				}
				// Reading the body to the end lets the client reuse the
				// connection, as clients of a real service do.
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					t.Errorf("create: status %d", resp.StatusCode)
					return
				}
				lat = append(lat, time.Since(start))
			}
			mu.Lock()
			all = append(all, lat...)
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(all) == 0 {
		t.Fatal("no create succeeded")
	}
	return len(all), all
}
