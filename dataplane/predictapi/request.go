// Package predictapi turns predict HTTP requests into pipeline calls and
// pipeline results into the two response shapes the API serves:
// {"success": true, "predictions": [...]} on ID routes such as
// /api/models/{modelId}/predict, and the OpenAPI contract's PredictResponse
// on owner routes such as /api/models/{owner}/{project}/{model}/predict.
//
// It parses and validates every request field before any model work starts,
// so bad input gets a 4xx that names the field and the bound. It holds no
// state; its functions are safe for concurrent use.
package predictapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"github.com/yoloplane/yoloplane/dataplane/predict"
	"github.com/yoloplane/yoloplane/shared/apierr"
)

// Bounds of the predict fields, as the published contract gives them.
const (
	MinConf     = 0.01
	MaxConf     = 1.0
	MinIoU      = 0.0
	MaxIoU      = 0.95
	MinImgSz    = 32
	MaxImgSz    = 1280
	MaxDecimals = 10
	// MaxSourceLen bounds the base64 `source` field; larger images go in the
	// multipart `file` field.
	MaxSourceLen = 4096
	// maxFieldLen bounds every text field other than source.
	maxFieldLen = 64
)

// Request is a validated predict request.
type Request struct {
	Image     []byte
	Params    predict.Params
	Normalize bool
	// Decimals is the number of digits kept after the point in coordinates
	// and confidences; -1 keeps full float32 precision.
	Decimals int
}

// Options controls parsing.
type Options struct {
	// Fetcher downloads `source` values that are http(s) URLs. Nil turns
	// URL sources off, the default, because fetching user-given URLs makes
	// the server connect wherever a client asks.
	Fetcher *URLFetcher
	// Context bounds URL fetches; nil means context.Background.
	Context context.Context
	// StatusUnsupportedMedia is the status for a non-multipart body: 415 on
	// ID routes; owner routes use 400 because the contract lists no 415.
	StatusUnsupportedMedia int
}

// Parse validates a predict request body given its Content-Type header.
// The returned Image aliases body, so it is valid only while body is.
func Parse(contentType string, body []byte, opts Options) (*Request, error) {
	boundary, err := multipartBoundary(contentType, opts)
	if err != nil {
		return nil, err
	}
	form, err := readForm(body, boundary)
	if err != nil {
		return nil, err
	}
	return buildRequest(form, opts)
}

func multipartBoundary(contentType string, opts Options) (string, error) {
	status := opts.StatusUnsupportedMedia
	if status == 0 {
		status = http.StatusUnsupportedMediaType
	}
	code := apierr.CodeUnsupportedMedia
	if status == http.StatusBadRequest {
		code = apierr.CodeValidation
	}
	if contentType == "" {
		return "", apierr.New(status, code,
			"missing Content-Type: send the image as multipart/form-data with a field named file")
	}
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil && strings.HasPrefix(strings.ToLower(contentType), "multipart/form-data") {
		return "", apierr.Validation("invalid multipart/form-data Content-Type %q: %v", truncate(contentType, 80), err)
	}
	if err != nil || mediaType != "multipart/form-data" {
		return "", apierr.New(status, code,
			"unsupported Content-Type %q: send the image as multipart/form-data with a field named file", truncate(contentType, 80))
	}
	boundary := params["boundary"]
	if boundary == "" {
		return "", apierr.Validation("multipart/form-data Content-Type has no boundary parameter")
	}
	return boundary, nil
}

// form holds the raw fields of a predict request.
type form struct {
	file    []byte
	hasFile bool
	fields  map[string]string
}

// readForm parses a multipart body held in memory. It keeps the first file
// part named "file" and every text field, and rejects duplicate text fields.
func readForm(body []byte, boundary string) (*form, error) {
	r := multipart.NewReader(bytes.NewReader(body), boundary)
	f := &form{fields: make(map[string]string)}
	for {
		part, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, malformedMultipart(err)
		}
		name := part.FormName()
		if name == "file" {
			if f.hasFile {
				return nil, apierr.Validation("more than one file field: send one image per request")
			}
			data, err := io.ReadAll(part)
			if err != nil {
				return nil, malformedMultipart(err)
			}
			f.file, f.hasFile = data, true
			continue
		}
		if !knownFields[name] {
			if part.FileName() != "" {
				return nil, apierr.Validation("unknown file field %q: send the image in the multipart field named file", truncate(name, 40))
			}
			// Other text fields are ignored, as the platform ignores fields
			// it does not know; they are read only up to a bound.
			if _, err := io.Copy(io.Discard, io.LimitReader(part, MaxSourceLen)); err != nil {
				return nil, malformedMultipart(err)
			}
			continue
		}
		limit := int64(maxFieldLen)
		if name == "source" {
			limit = MaxSourceLen
		}
		data, err := io.ReadAll(io.LimitReader(part, limit+1))
		if err != nil {
			return nil, malformedMultipart(err)
		}
		if int64(len(data)) > limit {
			if name == "source" {
				return nil, apierr.Validation("field source is longer than %d characters: send larger images as a file in the multipart field file", limit)
			}
			return nil, apierr.Validation("field %s is longer than %d characters", name, limit)
		}
		if _, dup := f.fields[name]; dup {
			return nil, apierr.Validation("field %s is given more than once", truncate(name, 40))
		}
		f.fields[name] = string(data)
	}
	return f, nil
}

// knownFields are the predict form fields of the platform's API. The
// contract's bits field applies to depth models only and is accepted and
// ignored.
var knownFields = map[string]bool{
	"file": true, "source": true, "conf": true, "iou": true, "imgsz": true,
	"normalize": true, "decimals": true, "bits": true,
}

// malformedMultipart explains a multipart parse failure in terms of what
// the client can change.
func malformedMultipart(err error) error {
	switch {
	case errors.Is(err, multipart.ErrMessageTooLarge):
		return apierr.Validation("multipart body has too many parts or part headers: send the file and the documented fields only")
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return apierr.Validation("malformed multipart body: it ends early or its parts do not match the boundary in Content-Type")
	}
	return apierr.Validation("malformed multipart body: %v; check that the boundary in Content-Type matches the body", err)
}

func buildRequest(f *form, opts Options) (*Request, error) {
	req := &Request{Params: predict.DefaultParams(), Decimals: -1}
	var err error
	if v, ok := f.fields["conf"]; ok {
		if req.Params.Conf, err = parseFloatField("conf", v, MinConf, MaxConf); err != nil {
			return nil, err
		}
	}
	if v, ok := f.fields["iou"]; ok {
		if req.Params.IoU, err = parseFloatField("iou", v, MinIoU, MaxIoU); err != nil {
			return nil, err
		}
	}
	if v, ok := f.fields["imgsz"]; ok {
		if req.Params.ImgSz, err = parseIntField("imgsz", v, MinImgSz, MaxImgSz); err != nil {
			return nil, err
		}
	}
	if v, ok := f.fields["decimals"]; ok {
		if req.Decimals, err = parseIntField("decimals", v, 0, MaxDecimals); err != nil {
			return nil, err
		}
	}
	if v, ok := f.fields["normalize"]; ok {
		if req.Normalize, err = parseBoolField("normalize", v); err != nil {
			return nil, err
		}
	}
	req.Image, err = imageBytes(f, opts)
	if err != nil {
		return nil, err
	}
	return req, nil
}

func imageBytes(f *form, opts Options) ([]byte, error) {
	source, hasSource := f.fields["source"]
	switch {
	case f.hasFile && hasSource:
		return nil, apierr.Validation("both file and source are given: send only one of them")
	case f.hasFile:
		return f.file, nil
	case hasSource:
		return decodeSource(source, opts)
	default:
		return nil, apierr.Validation("missing image: send it in the multipart field file (or as base64 in source)")
	}
}

func decodeSource(source string, opts Options) ([]byte, error) {
	s := strings.TrimSpace(source)
	if s == "" {
		return nil, apierr.Validation("field source is empty: give a base64-encoded image")
	}
	if strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") {
		if opts.Fetcher == nil {
			return nil, apierr.Validation("URL sources are disabled on this server: upload the image in the field file, or start the server with --allow-url-source")
		}
		ctx := opts.Context
		if ctx == nil {
			ctx = context.Background()
		}
		return opts.Fetcher.Fetch(ctx, s)
	}
	if i := strings.Index(s, ";base64,"); strings.HasPrefix(s, "data:") && i >= 0 {
		s = s[i+len(";base64,"):]
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if data, err := enc.DecodeString(s); err == nil {
			return data, nil
		}
	}
	return nil, apierr.Validation("field source is not valid base64: give a base64-encoded image or use the field file")
}

func parseFloatField(name, v string, lo, hi float64) (float32, error) {
	v = strings.TrimSpace(v)
	f, err := strconv.ParseFloat(v, 64)
	// ParseFloat also takes hexadecimal, underscores, "inf" and "nan";
	// a form field is plain decimal.
	if err != nil || f != f || strings.ContainsAny(v, "xXpP_iInN") {
		return 0, apierr.Validation("field %s must be a number between %g and %g, got %q", name, lo, hi, truncate(v, 20))
	}
	if f < lo || f > hi {
		return 0, apierr.Validation("field %s must be between %g and %g, got %g", name, lo, hi, f)
	}
	return float32(f), nil
}

func parseIntField(name, v string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return 0, apierr.Validation("field %s must be a whole number between %d and %d, got %q", name, lo, hi, truncate(v, 20))
	}
	if n < lo || n > hi {
		return 0, apierr.Validation("field %s must be between %d and %d, got %d", name, lo, hi, n)
	}
	return n, nil
}

func parseBoolField(name, v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "1", "yes", "on":
		return true, nil
	case "false", "0", "no", "off", "":
		return false, nil
	}
	return false, apierr.Validation("field %s must be true or false, got %q", name, truncate(v, 20))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// BodyTooLarge returns the 413 error for a body over limit bytes.
func BodyTooLarge(limit int64) *apierr.Error {
	return apierr.New(http.StatusRequestEntityTooLarge, apierr.CodePayloadTooLarge,
		"request body is larger than the %s limit: send a smaller image (the server limit is set with --max-body)", formatBytes(limit))
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1000*1000 && n%(1000*1000) == 0:
		return fmt.Sprintf("%d MB", n/(1000*1000))
	}
	return fmt.Sprintf("%d-byte", n)
}
