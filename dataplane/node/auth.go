package node

import (
	"crypto/subtle"
	"slices"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/shared/apierr"
	"github.com/yoloplane/yoloplane/shared/apikey"
	"github.com/yoloplane/yoloplane/shared/httpserver"
	"github.com/yoloplane/yoloplane/shared/wire"
)

// authenticate returns the key of the request's bearer token from the
// view's key hashes.
func authenticate(ctx *fasthttp.RequestCtx, v *view) (*wire.Key, *apierr.Error) {
	hash, e := apikey.FromHeader(ctx.Request.Header.Peek(fasthttp.HeaderAuthorization))
	if e != nil {
		return nil, e
	}
	var key *wire.Key
	if v != nil {
		key = v.keys[hash]
	}
	// The map lookup finds the candidate; the constant-time comparison
	// keeps the final check independent of where the hashes differ.
	if key == nil || subtle.ConstantTimeCompare([]byte(key.Hash), []byte(hash)) != 1 {
		return nil, apikey.ErrUnknown
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
	return httpserver.SecretMatches(ctx, wire.HeaderSecret, secret)
}
