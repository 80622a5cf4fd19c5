package node

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/yoloplane/yoloplane/controlplane/blob"
	"github.com/yoloplane/yoloplane/shared/wire"
)

// errNotModified reports a watch that ended without a newer state.
var errNotModified = errors.New("fleet state not modified")

// cpClient calls the control plane's internal fleet routes. It holds one
// or more voter base URLs and sticks to the one that last responded. When a
// voter cannot be reached, a call moves on to the next, so a node survives
// the loss of any voter it lists. It is safe for concurrent use.
type cpClient struct {
	bases   []string
	current atomic.Int64 // index into bases of the voter that last responded
	secret  string
	http    *http.Client
}

// newCPClient takes a comma-separated list of base URLs, which Config's
// Validate checked.
func newCPClient(bases, secret string) *cpClient {
	c := &cpClient{
		secret: secret,
		// Every call sets its own deadline through its context.
		http: &http.Client{},
	}
	for _, b := range splitControlPlanes(bases) {
		c.bases = append(c.bases, strings.TrimRight(b, "/"))
	}
	return c
}

// splitControlPlanes returns the non-empty entries of a comma-separated
// URL list.
func splitControlPlanes(list string) []string {
	var out []string
	for _, b := range strings.Split(list, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}

// do sends a request to the current voter, and to each other voter in
// turn while the previous one cannot be reached. body may be nil. A voter
// that responds with any status ends the search, because it is up and the
// next call would get the same response.
func (c *cpClient) do(ctx context.Context, method, path string, body []byte) (*http.Response, error) {
	start := int(c.current.Load())
	var lastErr error
	for i := range c.bases {
		idx := (start + i) % len(c.bases)
		var r io.Reader
		if body != nil {
			r = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, c.bases[idx]+path, r)
		if err != nil {
			return nil, err
		}
		req.Header.Set(wire.HeaderSecret, c.secret)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := c.http.Do(req)
		if err == nil {
			c.current.Store(int64(idx))
			return resp, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	// The next call starts at the voter after the one tried first, so a
	// node that lost its voter moves on even when every call times out.
	c.current.CompareAndSwap(int64(start), int64((start+1)%len(c.bases)))
	return nil, lastErr
}

// watch long-polls for a state newer than since that holds the
// deployments of region only. It returns errNotModified when the control
// plane's wait ended without a change.
func (c *cpClient) watch(ctx context.Context, since uint64, region string, timeout time.Duration) (*wire.FleetState, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	q := url.Values{"since": {strconv.FormatUint(since, 10)}, wire.QueryRegion: {region}}
	resp, err := c.do(ctx, http.MethodGet, wire.PathWatch+"?"+q.Encode(), nil)
	if err != nil {
		return nil, fmt.Errorf("watch fleet state: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotModified {
		return nil, errNotModified
	}
	if err := checkStatus(resp); err != nil {
		return nil, fmt.Errorf("watch fleet state: %w", err)
	}
	var st wire.FleetState
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return nil, fmt.Errorf("decode fleet state: %w", err)
	}
	return &st, nil
}

// postJSON sends in as JSON to path and decodes the response into out when
// out is not nil.
func (c *cpClient) postJSON(ctx context.Context, timeout time.Duration, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err := c.do(ctx, http.MethodPost, path, body)
	if err != nil {
		return fmt.Errorf("post %s: %w", path, err)
	}
	defer resp.Body.Close()
	if err := checkStatus(resp); err != nil {
		return fmt.Errorf("post %s: %w", path, err)
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode response of %s: %w", path, err)
	}
	return nil
}

// fetchBlob downloads the blob with the given SHA-256 into store, which
// verifies the hash before the file becomes visible.
func (c *cpClient) fetchBlob(ctx context.Context, timeout time.Duration, store *blob.Store, sha string) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err := c.do(ctx, http.MethodGet, wire.PathBlobs+sha, nil)
	if err != nil {
		return fmt.Errorf("download model file %s: %w", sha, err)
	}
	defer resp.Body.Close()
	if err := checkStatus(resp); err != nil {
		return fmt.Errorf("download model file %s: %w", sha, err)
	}
	if _, err := store.PutExpect(resp.Body, sha); err != nil {
		return fmt.Errorf("store model file %s: %w", sha, err)
	}
	return nil
}

// checkStatus turns a non-2xx response into an error that quotes the start
// of its body.
func checkStatus(resp *http.Response) error {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	return fmt.Errorf("control plane returned %s: %s", resp.Status, bytes.TrimSpace(msg))
}
