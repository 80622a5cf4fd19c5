package node

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"slices"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/shared/apierr"
	"github.com/yoloplane/yoloplane/shared/wire"
)

// API keys are "ul_" followed by 40 hex characters.
const (
	keyPrefix = "ul_"
	keyLen    = len(keyPrefix) + 40
)

// authenticate returns the key of the request's bearer token from the
// view's key hashes.
func authenticate(ctx *fasthttp.RequestCtx, v *view) (*wire.Key, *apierr.Error) {
	header := ctx.Request.Header.Peek(fasthttp.HeaderAuthorization)
	if len(header) == 0 {
		return nil, apierr.Unauthorized("missing API key: send the header Authorization: Bearer ul_...")
	}
	token, ok := bytes.CutPrefix(header, []byte("Bearer "))
	if !ok {
		return nil, apierr.Unauthorized("invalid Authorization header: use the form Bearer ul_ followed by 40 hex characters")
	}
	token = bytes.ToLower(bytes.TrimSpace(token))
	if len(token) != keyLen || !bytes.HasPrefix(token, []byte(keyPrefix)) {
		return nil, apierr.Unauthorized("invalid API key format: keys are ul_ followed by 40 hex characters")
	}
	sum := sha256.Sum256(token)
	hash := hex.EncodeToString(sum[:])
	var key *wire.Key
	if v != nil {
		key = v.keys[hash]
	}
	// The map lookup finds the candidate; the constant-time comparison
	// keeps the final check independent of where the hashes differ.
	if key == nil || subtle.ConstantTimeCompare([]byte(key.Hash), []byte(hash)) != 1 {
		return nil, apierr.Unauthorized("invalid or revoked API key: create a new key under Settings > API Keys")
	}
	return key, nil
}

// deploymentNotFound is the error for a deployment that does not exist,
// is not on this node, or belongs to a workspace the key cannot read. One
// message for all three reveals nothing about other workspaces.
func deploymentNotFound(id string) *apierr.Error {
	return apierr.NotFound("deployment %q not found", id)
}

func canRead(key *wire.Key, d *wire.Deployment) bool {
	return slices.Contains(key.Workspaces, d.WorkspaceID)
}

// checkSecret reports whether the request carries the cluster secret.
func checkSecret(ctx *fasthttp.RequestCtx, secret string) bool {
	got := ctx.Request.Header.Peek(wire.HeaderSecret)
	return len(got) > 0 && subtle.ConstantTimeCompare(got, []byte(secret)) == 1
}
