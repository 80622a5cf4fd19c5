package predictapi

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/dataplane/accounting"
	"github.com/yoloplane/yoloplane/dataplane/predict"
	"github.com/yoloplane/yoloplane/dataplane/vision"
	"github.com/yoloplane/yoloplane/shared/apierr"
	"github.com/yoloplane/yoloplane/shared/httpserver"
)

// Shape selects the response body format.
type Shape int

const (
	// ShapeSeed is {"success": true, "predictions": [...]}, for ID routes.
	ShapeSeed Shape = iota
	// ShapeContract is the contract's PredictResponse, for owner routes.
	ShapeContract
)

// Handler serves predict requests for models that the caller has resolved
// and authorized. It is safe for concurrent use.
type Handler struct {
	// MaxBody is the largest request body accepted, in bytes. The server
	// must be configured with the same MaxRequestBodySize and
	// StreamRequestBody so that larger bodies reach Serve as a stream.
	MaxBody int64
	// AllowURLSource enables http(s) URLs in the source field.
	AllowURLSource bool
	// AllowPrivateURLs lets URL sources reach loopback and private
	// addresses. Tests use it; a server exposed to clients must not.
	AllowPrivateURLs bool
	Recorder         *accounting.Recorder
	Logger           *slog.Logger
	Started          time.Time
	Version          string
	// Timeout bounds the whole predict, from parsing to the response.
	Timeout time.Duration

	fetcherOnce sync.Once
	urlFetcher  *URLFetcher
}

// Target is the model a predict runs on.
type Target struct {
	ID    string
	Name  string
	Model *predict.Model
}

// Serve parses the request, runs the predict and writes the response in the
// given shape. Every failure becomes a JSON error response. Successes are
// recorded with their stage timings by serve; failures of a known model are
// recorded here with their total time only.
func (h *Handler) Serve(ctx *fasthttp.RequestCtx, t Target, shape Shape) {
	start := time.Now()
	status := h.serve(ctx, t, shape, start)
	if h.Recorder != nil && t.ID != "" && status != http.StatusOK {
		tm := accounting.Timings{Total: time.Since(start)}
		h.Recorder.Observe(t.ID, status, &tm)
	}
}

func (h *Handler) serve(ctx *fasthttp.RequestCtx, t Target, shape Shape, start time.Time) int {
	body, tooLarge, err := h.readBody(ctx)
	if tooLarge {
		return h.rejectLargeBody(ctx)
	}
	if err != nil {
		return h.fail(ctx, t, apierr.Validation("failed to read the request body: %s", bodyReadProblem(err)))
	}
	c := context.Context(ctx)
	if h.Timeout > 0 {
		var cancel context.CancelFunc
		c, cancel = context.WithTimeout(ctx, h.Timeout)
		defer cancel()
	}
	opts := Options{Fetcher: h.fetcher(), Context: c}
	if shape == ShapeContract {
		opts.StatusUnsupportedMedia = http.StatusBadRequest
	}
	req, err := Parse(string(ctx.Request.Header.ContentType()), body, opts)
	if err != nil {
		return h.fail(ctx, t, err)
	}
	res, err := t.Model.Predict(c, req.Image, req.Params)
	if err != nil {
		return h.fail(ctx, t, err)
	}

	ctx.SetContentType("application/json")
	ctx.Response.Header.SetBytesV("Server-Timing", res.Timings.AppendServerTiming(nil))
	buf := make([]byte, 0, 512+len(res.Detections)*160)
	switch shape {
	case ShapeContract:
		buf = AppendContract(buf, req, res, Meta{
			ModelName:    t.Name,
			AliveSeconds: time.Since(h.Started).Seconds(),
			CallSeconds:  time.Since(start).Seconds(),
			Version:      h.Version,
		})
	default:
		buf = AppendSeed(buf, req, res)
	}
	ctx.SetBody(buf)
	if h.Recorder != nil {
		h.Recorder.Observe(t.ID, http.StatusOK, &res.Timings)
	}
	return http.StatusOK
}

// fetcher returns the URL fetcher, built on first use, or nil when URL
// sources are off.
func (h *Handler) fetcher() *URLFetcher {
	if !h.AllowURLSource {
		return nil
	}
	h.fetcherOnce.Do(func() {
		timeout := h.Timeout
		if timeout <= 0 {
			timeout = 30 * time.Second
		}
		h.urlFetcher = NewURLFetcher(h.MaxBody, timeout, h.AllowPrivateURLs)
	})
	return h.urlFetcher
}

// readBody returns the request body, reading at most MaxBody bytes. The
// server streams request bodies, so a body over the limit is detected here
// from its Content-Length, or while reading a chunked one.
func (h *Handler) readBody(ctx *fasthttp.RequestCtx) (body []byte, tooLarge bool, err error) {
	return httpserver.ReadLimited(ctx, h.MaxBody)
}

// IsTooLarge reports whether the request declares a body over the limit.
func (h *Handler) IsTooLarge(ctx *fasthttp.RequestCtx) bool {
	cl := ctx.Request.Header.ContentLength()
	return cl > 0 && int64(cl) > h.MaxBody
}

// rejectLargeBody responds 413 and reads the rest of the body, bounded, so
// the client sees the response instead of a connection reset.
func (h *Handler) rejectLargeBody(ctx *fasthttp.RequestCtx) int {
	e := BodyTooLarge(h.MaxBody)
	if stream := ctx.RequestBodyStream(); stream != nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(stream, 8*h.MaxBody))
	}
	apierr.Write(ctx, e)
	ctx.SetConnectionClose()
	return e.Status
}

func (h *Handler) fail(ctx *fasthttp.RequestCtx, t Target, err error) int {
	e := MapError(err)
	if e == apierr.Internal && h.Logger != nil {
		h.Logger.Error("predict failed", "model_id", t.ID, "error", err)
	}
	apierr.Write(ctx, e)
	if e == errBusy {
		ctx.Response.Header.Set("Retry-After", "1")
	}
	return e.Status
}

// errBusy is the response to a predict that ran past the server's predict
// timeout, which happens when requests queue for the model faster than it
// serves them.
var errBusy = apierr.New(http.StatusServiceUnavailable, apierr.CodeServiceUnavailable,
	"the predict did not finish within the server's predict timeout because the server is busy: retry after a second")

// bodyReadProblem describes a failed body read without transport internals.
func bodyReadProblem(err error) string {
	msg := err.Error()
	if strings.Contains(msg, "chunk") || strings.Contains(msg, "hex number") {
		return "the chunked transfer encoding is invalid"
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "the body ended before its declared length"
	}
	return "the connection failed while the body was sent"
}

// MapError turns a pipeline error into the API error the client receives.
func MapError(err error) *apierr.Error {
	var e *apierr.Error
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, vision.ErrTooLarge):
		return apierr.New(http.StatusRequestEntityTooLarge, apierr.CodePayloadTooLarge, "%s", err.Error())
	case errors.Is(err, vision.ErrEmpty), errors.Is(err, vision.ErrUnsupportedFormat),
		errors.Is(err, vision.ErrCorrupt), errors.Is(err, vision.ErrAnimated):
		return apierr.Validation("%s", err.Error())
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return errBusy
	}
	return apierr.Internal
}
