package api

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/controlplane/state"
	"github.com/yoloplane/yoloplane/shared/apierr"
	"github.com/yoloplane/yoloplane/shared/ids"
)

// downloadURLTTL is how long a signed download URL stays valid: long
// enough to fetch a large model over a slow link.
const downloadURLTTL = time.Hour

// signDownload returns the hex HMAC-SHA256 of a model ID and an expiry in
// Unix seconds under the server's URL secret.
func (s *Server) signDownload(modelID string, expires int64) string {
	mac := hmac.New(sha256.New, s.backend.URLSecret)
	mac.Write([]byte(modelID + "\n" + strconv.FormatInt(expires, 10)))
	return hex.EncodeToString(mac.Sum(nil))
}

func modelFileName(m state.Model) string { return m.Slug + "." + m.Format }

// baseURL returns the scheme and host for absolute URLs in responses, such
// as download and invite links: the configured public URL, or else the
// one the client addressed.
func (s *Server) baseURL(ctx *fasthttp.RequestCtx) string {
	if s.cfg.PublicURL != "" {
		return strings.TrimRight(s.cfg.PublicURL, "/")
	}
	return string(ctx.URI().Scheme()) + "://" + string(ctx.Host())
}

// modelFiles returns a signed, expiring download URL for the model's file.
// The URL is relative to this server, which serves it without an API key.
func (s *Server) modelFiles(ctx *fasthttp.RequestCtx, m state.Model) {
	if m.FileSHA256 == "" {
		apierr.Write(ctx, apierr.New(fasthttp.StatusConflict, apierr.CodeConflict,
			"model %s has no weights file yet: upload one with POST /api/models", m.ID))
		return
	}
	if len(s.backend.URLSecret) == 0 {
		s.log.Error("BUG: download URLs requested without a URL secret")
		apierr.Write(ctx, apierr.Internal)
		return
	}
	expires := s.now().Add(downloadURLTTL).Unix()
	url := s.baseURL(ctx) + "/files/models/" + m.ID + "/" + modelFileName(m) +
		"?expires=" + strconv.FormatInt(expires, 10) + "&signature=" + s.signDownload(m.ID, expires)
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"files": []map[string]any{
		{"name": modelFileName(m), "size": m.FileSize, "downloadUrl": url},
	}})
}

// handleDownload serves /files/models/{modelId}/{name} when the signature
// matches and the expiry has not passed. Bad and expired links get the
// same 403, so they reveal nothing about the model.
func (s *Server) handleDownload(ctx *fasthttp.RequestCtx) {
	id, _ := ctx.UserValue("modelId").(string)
	args := ctx.QueryArgs()
	expires, err := strconv.ParseInt(string(args.Peek("expires")), 10, 64)
	denied := apierr.New(fasthttp.StatusForbidden, apierr.CodeForbidden,
		"download link is invalid or expired: request a new one from the model's files route")
	if err != nil || !ids.IsID(id) || len(s.backend.URLSecret) == 0 ||
		!hmac.Equal([]byte(s.signDownload(id, expires)), args.Peek("signature")) ||
		s.now().Unix() > expires {
		apierr.Write(ctx, denied)
		return
	}
	m, ok := s.fsm.ModelByID(id)
	if !ok || m.DeletedAt != nil || m.FileSHA256 == "" || s.backend.Blobs == nil {
		apierr.Write(ctx, apierr.NotFound("model %s has no file to download", id))
		return
	}
	f, e := s.openBlob(ctx, m.FileSHA256, "model file")
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	ctx.SetContentType("application/octet-stream")
	ctx.Response.Header.Set("Content-Disposition", `attachment; filename="`+modelFileName(m)+`"`)
	ctx.SetBodyStream(f, int(m.FileSize))
}

// openBlob opens the blob with this hash, first fetching it from a peer
// when it was uploaded through another voter. kind names the blob in
// errors, such as "model file".
func (s *Server) openBlob(ctx context.Context, hash, kind string) (*os.File, *apierr.Error) {
	if err := s.backend.Blobs.Ensure(ctx, hash); err != nil {
		s.log.Error("fetch blob from peers failed", "sha256", hash, "error", err)
		return nil, apierr.New(fasthttp.StatusServiceUnavailable, apierr.CodeServiceUnavailable,
			"%s %s is not on this node and no peer returned it: retry later", kind, hash)
	}
	f, err := s.backend.Blobs.Open(hash)
	if err != nil {
		s.log.Error("open blob failed", "sha256", hash, "error", err)
		return nil, apierr.Internal
	}
	return f, nil
}
