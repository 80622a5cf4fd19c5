// Package apierr defines the API error type that every HTTP handler returns.
//
// The body of an error response is exactly {"error": "message"}, because the
// published contract forbids other keys. The machine-readable code goes in the
// X-Error-Code header. Values are immutable and safe to share.
package apierr

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// Machine-readable error codes sent in the X-Error-Code header.
const (
	CodeBadRequest         = "BAD_REQUEST"
	CodeValidation         = "VALIDATION_ERROR"
	CodeUnauthorized       = "UNAUTHORIZED"
	CodeForbidden          = "FORBIDDEN"
	CodeNotFound           = "NOT_FOUND"
	CodeConflict           = "CONFLICT"
	CodeGone               = "GONE"
	CodePayloadTooLarge    = "PAYLOAD_TOO_LARGE"
	CodeUnsupportedMedia   = "UNSUPPORTED_MEDIA_TYPE"
	CodeUnprocessable      = "UNPROCESSABLE_ENTITY"
	CodeRateLimited        = "RATE_LIMITED"
	CodeInternal           = "INTERNAL_ERROR"
	CodeNotImplemented     = "NOT_IMPLEMENTED"
	CodeServiceUnavailable = "SERVICE_UNAVAILABLE"
)

// HeaderCode is the response header that carries Error.Code.
const HeaderCode = "X-Error-Code"

// Error is an error that maps to an HTTP status, a code and a message for
// the client. Message says what failed and what to change.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Body returns the JSON response body {"error": Message}.
func (e *Error) Body() []byte {
	b, err := json.Marshal(struct {
		Error string `json:"error"`
	}{e.Message})
	if err != nil {
		panic("BUG: marshal error body: " + err.Error())
	}
	return b
}

// New returns an Error with the given status and code and a formatted message.
func New(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Validation returns a 400 VALIDATION_ERROR.
func Validation(format string, args ...any) *Error {
	return New(http.StatusBadRequest, CodeValidation, format, args...)
}

// NotFound returns a 404 NOT_FOUND.
func NotFound(format string, args ...any) *Error {
	return New(http.StatusNotFound, CodeNotFound, format, args...)
}

// Unauthorized returns a 401 UNAUTHORIZED.
func Unauthorized(format string, args ...any) *Error {
	return New(http.StatusUnauthorized, CodeUnauthorized, format, args...)
}

// Internal is the error sent for failures the client cannot fix. Its message
// carries no detail; the caller logs the cause.
var Internal = &Error{Status: http.StatusInternalServerError, Code: CodeInternal,
	Message: "internal server error: the failure was logged on the server; retry later"}

// From returns err as an *Error when it is one or wraps one, and Internal
// otherwise.
func From(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Internal
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
