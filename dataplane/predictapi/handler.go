package predictapi

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/dataplane/accounting"
	"github.com/yoloplane/yoloplane/dataplane/predict"
	"github.com/yoloplane/yoloplane/dataplane/vision"
	"github.com/yoloplane/yoloplane/shared/apierr"
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
	Recorder       *accounting.Recorder
	Logger         *slog.Logger
	Started        time.Time
	Version        string
	// Timeout bounds how long a request waits for an inference slot.
	Timeout time.Duration
}

// Target is the model a predict runs on.
type Target struct {
	ID    string
	Name  string
	Model *predict.Model
}

// Serve parses the request, runs the predict and writes the response in the
// given shape. Every failure becomes a JSON error response.
func (h *Handler) Serve(ctx *fasthttp.RequestCtx, t Target, shape Shape) {
	start := time.Now()
	status := h.serve(ctx, t, shape, start)
	if h.Recorder != nil && status != 0 {
		var tm accounting.Timings
		tm.Total = time.Since(start)
		if status != http.StatusOK {
			h.Recorder.Observe(t.ID, status, &tm)
		}
	}
}

func (h *Handler) serve(ctx *fasthttp.RequestCtx, t Target, shape Shape, start time.Time) int {
	body, tooLarge, err := h.readBody(ctx)
	if tooLarge {
		return h.rejectLargeBody(ctx)
	}
	if err != nil {
		return h.fail(ctx, t, apierr.Validation("failed to read the request body: %v", err))
	}
	opts := Options{AllowURLSource: h.AllowURLSource}
	if shape == ShapeContract {
		opts.StatusUnsupportedMedia = http.StatusBadRequest
	}
	req, err := Parse(string(ctx.Request.Header.ContentType()), body, opts)
	if err != nil {
		return h.fail(ctx, t, err)
	}
	c := context.Context(ctx)
	if h.Timeout > 0 {
		var cancel context.CancelFunc
		c, cancel = context.WithTimeout(ctx, h.Timeout)
		defer cancel()
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

// readBody returns the request body, reading at most MaxBody bytes. The
// server streams request bodies, so a body over the limit is detected here
// from its Content-Length, or while reading a chunked one.
func (h *Handler) readBody(ctx *fasthttp.RequestCtx) (body []byte, tooLarge bool, err error) {
	if h.IsTooLarge(ctx) {
		return nil, true, nil
	}
	if !ctx.Request.IsBodyStream() {
		return ctx.PostBody(), false, nil
	}
	body, err = io.ReadAll(io.LimitReader(ctx.RequestBodyStream(), h.MaxBody+1))
	if err != nil {
		return nil, false, err
	}
	return body, int64(len(body)) > h.MaxBody, nil
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
	return e.Status
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
		return apierr.New(http.StatusServiceUnavailable, apierr.CodeServiceUnavailable,
			"the model is busy and the request timed out waiting for it: retry later")
	}
	return apierr.Internal
}
