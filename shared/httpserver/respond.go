package httpserver

import (
	"crypto/subtle"
	"encoding/json"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/shared/apierr"
)

// WriteJSON sends v as a JSON response with the given status. A value that
// cannot be encoded is a bug in the handler and gets the 500 error body.
func WriteJSON(ctx *fasthttp.RequestCtx, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		apierr.Write(ctx, apierr.Internal)
		return
	}
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	ctx.SetBody(b)
}

// SecretMatches reports whether the request carries secret in header. It
// compares in constant time, and an empty header never matches.
func SecretMatches(ctx *fasthttp.RequestCtx, header, secret string) bool {
	got := ctx.Request.Header.Peek(header)
	return len(got) > 0 && subtle.ConstantTimeCompare(got, []byte(secret)) == 1
}
