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
	if ctx.Request.IsBodyStream() {
		// The server streams only bodies over its limit: reject and drain.
		return h.rejectLargeBody(ctx)
	}
	opts := Options{AllowURLSource: h.AllowURLSource}
	if shape == ShapeContract {
		opts.StatusUnsupportedMedia = http.StatusBadRequest
	}
	req, err := Parse(string(ctx.Request.Header.ContentType()), ctx.PostBody(), opts)
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
	body := ctx.Response.BodyWriter()
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
	if _, err := body.Write(buf); err != nil {
		return h.fail(ctx, t, err)
	}
	if h.Recorder != nil {
		h.Recorder.Observe(t.ID, http.StatusOK, &res.Timings)
	}
	return http.StatusOK
}

// rejectLargeBody answers 413 and reads the rest of the body, bounded, so
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
