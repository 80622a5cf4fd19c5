// Package httpserver builds the fasthttp servers of both planes with the
// same limits and the same handling of requests that fail before a handler
// runs: a JSON error with the right status, and log lines with secrets
// redacted.
package httpserver

import (
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
		Handler:               handler,
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
