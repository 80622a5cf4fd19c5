package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/controlplane/blob"
	"github.com/yoloplane/yoloplane/shared/apierr"
)

const pathBlob = "/internal/v1/blob"

// handleBlob streams the blob whose hash is the request body, for a peer
// that lacks it.
func (c *Cluster) handleBlob(ctx *fasthttp.RequestCtx) {
	if c.cfg.Blobs == nil {
		apierr.Write(ctx, apierr.NotFound("this node keeps no blob store"))
		return
	}
	hash := strings.TrimSpace(string(ctx.PostBody()))
	f, err := c.cfg.Blobs.Open(hash)
	switch {
	case errors.Is(err, blob.ErrNotFound):
		apierr.Write(ctx, apierr.NotFound("blob %s is not stored on this node", hash))
		return
	case err != nil:
		apierr.Write(ctx, apierr.Validation("%v", err))
		return
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		apierr.Write(ctx, apierr.Internal)
		return
	}
	ctx.SetContentType("application/octet-stream")
	ctx.SetBodyStream(f, int(info.Size()))
}

// FetchBlob copies the blob with this hash from the first voter that has
// it into dst, checking the content against the hash. It is the blob
// store's Fetcher on voters.
func (c *Cluster) FetchBlob(ctx context.Context, hash string, dst *blob.Store) error {
	servers, err := c.node.Servers()
	if err != nil {
		return fmt.Errorf("fetch blob %s: list voters: %w", hash, err)
	}
	var errs []error
	for _, s := range servers {
		if s.ID == c.node.ID() {
			continue
		}
		addr, ok := c.fsm.NodeHTTPAddr(s.ID)
		if !ok {
			continue
		}
		err := c.fetchBlobFrom(ctx, "http://"+addr+pathBlob, hash, dst)
		if err == nil {
			return nil
		}
		errs = append(errs, fmt.Errorf("from %s: %w", s.ID, err))
	}
	if len(errs) == 0 {
		return fmt.Errorf("fetch blob %s: %w: no other voter has a recorded address", hash, blob.ErrNotFound)
	}
	return fmt.Errorf("fetch blob %s: %w", hash, errors.Join(errs...))
}

// fetchBlobFrom streams one peer's copy into dst. It uses net/http, which
// streams response bodies, because model files reach a gigabyte.
func (c *Cluster) fetchBlobFrom(ctx context.Context, url, hash string, dst *blob.Store) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(hash))
	if err != nil {
		return err
	}
	req.Header.Set(HeaderSecret, c.cfg.Secret)
	resp, err := c.blobClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		if resp.StatusCode == http.StatusNotFound {
			return fmt.Errorf("%w: %s", blob.ErrNotFound, msg)
		}
		return fmt.Errorf("peer returned status %d: %s", resp.StatusCode, msg)
	}
	_, err = dst.PutExpect(resp.Body, hash)
	return err
}
