// Package httpserver builds the fasthttp servers of both planes with the
// same limits and the same handling of requests that fail before a handler
// runs: a JSON error with the right status, and log lines with secrets
// redacted.
package httpserver

import (
	"bytes"
	"io"
	"log/slog"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/shared/apierr"
)

// Config sets a server's limits.
type Config struct {
	// MaxBody is the largest request body in bytes. Larger bodies reach
	// the handler as a stream, so it can answer 413 and drain them.
	MaxBody int64
	// ReadTimeout bounds reading one whole request. 60 s lets a 10 MB
	// upload through at about 170 KB/s.
	ReadTimeout time.Duration
}

// readBufferSize bounds the request line plus headers. 8 KB matches the
// common limit of proxies such as nginx.
const readBufferSize = 8 << 10

// New returns a server for handler.
func New(handler fasthttp.RequestHandler, cfg Config, log *slog.Logger) *fasthttp.Server {
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = 60 * time.Second
	}
	return &fasthttp.Server{
		Handler:               Drained(handler, cfg.MaxBody),
		Name:                  "yoloplane",
		MaxRequestBodySize:    int(cfg.MaxBody),
		StreamRequestBody:     true,
		ReadBufferSize:        readBufferSize,
		ReadTimeout:           cfg.ReadTimeout,
		WriteTimeout:          cfg.ReadTimeout,
		IdleTimeout:           2 * cfg.ReadTimeout,
		NoDefaultServerHeader: true,

		// Handlers parse multipart bodies themselves. Pre-parsing would
		// copy every image into a form, and PostBody would then encode
		// the form again into a new body.
		DisablePreParseMultipartForm: true,

		ErrorHandler: func(ctx *fasthttp.RequestCtx, err error) {
			apierr.Write(ctx, apierr.FromReadError(err))
		},
		Logger: apierr.ServerLogger(func(message string) {
			log.Warn("http connection error", "message", message)
		}),
	}
}

// Drained wraps handler so that whatever it left of a streamed request
// body, up to maxBody bytes, is read before the response goes out, and a
// rejection reaches a client that is still sending. Servers built by New
// have it; a caller that replaces Server.Handler wraps the new handler too.
func Drained(handler fasthttp.RequestHandler, maxBody int64) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		handler(ctx)
		DrainBody(ctx, maxBody)
	}
}

// DrainBody reads and discards what is left of a streamed request body, up
// to limit bytes. A handler that rejects a request without reading its body
// calls it first: otherwise the server closes the connection with unread
// data, the kernel resets it, and a client still sending the body sees
// "connection reset" instead of the error response.
func DrainBody(ctx *fasthttp.RequestCtx, limit int64) {
	if !ctx.Request.IsBodyStream() {
		return
	}
	if stream := ctx.RequestBodyStream(); stream != nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(stream, limit))
	}
}

// ReadBody returns the request body, rejecting one over limit bytes with a
// 413 error, whether the server buffered it or streams it. It is ReadLimited
// with the errors written for the client.
func ReadBody(ctx *fasthttp.RequestCtx, limit int64) ([]byte, *apierr.Error) {
	body, tooLarge, err := ReadLimited(ctx, limit)
	switch {
	case tooLarge:
		return nil, apierr.New(fasthttp.StatusRequestEntityTooLarge, apierr.CodePayloadTooLarge,
			"request body is larger than %d bytes: send a smaller body", limit)
	case err != nil:
		return nil, apierr.New(fasthttp.StatusBadRequest, apierr.CodeBadRequest, "read request body: %v", err)
	}
	return body, nil
}

// ReadLimited returns the request body, or tooLarge when it is over limit
// bytes by its Content-Length or its length. A streamed body is read once
// and then kept in the request, so later calls and PostBody return the
// same bytes. PostBody alone would read a stream without a limit, and
// fasthttp logs a warning each time it does.
func ReadLimited(ctx *fasthttp.RequestCtx, limit int64) (body []byte, tooLarge bool, err error) {
	if cl := ctx.Request.Header.ContentLength(); cl > 0 && int64(cl) > limit {
		return nil, true, nil
	}
	if !ctx.Request.IsBodyStream() {
		body := ctx.PostBody()
		return body, int64(len(body)) > limit, nil
	}
	// Sizing the buffer from Content-Length up front saves the repeated
	// grow-and-copy of io.ReadAll, which took a third of the CPU time of
	// a proxied predict in BenchmarkDeploymentPredictHop.
	var buf bytes.Buffer
	buf.Grow(max(ctx.Request.Header.ContentLength(), 0) + bytes.MinRead)
	if _, err := buf.ReadFrom(io.LimitReader(ctx.RequestBodyStream(), limit+1)); err != nil {
		return nil, false, err
	}
	if int64(buf.Len()) > limit {
		return nil, true, nil
	}
	ctx.Request.SetBodyRaw(buf.Bytes())
	return buf.Bytes(), false, nil
}
