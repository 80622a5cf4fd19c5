package apierr

import "github.com/valyala/fasthttp"

// Write sends e as the response: its status, the X-Error-Code header and the
// JSON body {"error": message}.
func Write(ctx *fasthttp.RequestCtx, e *Error) {
	ctx.Response.Reset()
	ctx.SetStatusCode(e.Status)
	ctx.Response.Header.Set(HeaderCode, e.Code)
	ctx.SetContentType("application/json")
	ctx.SetBody(e.Body())
}
