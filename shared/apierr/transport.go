package apierr

import (
	"errors"
	"net"
	"net/http"
	"regexp"
	"strings"

	"github.com/valyala/fasthttp"
)

// secretPattern matches API keys, invite tokens, bearer tokens and cluster
// secrets, which fasthttp quotes in its read errors and log lines when a
// request is malformed.
var secretPattern = regexp.MustCompile(`(?i)(bearer\s+)\S+|ul_[0-9a-f]{6,}|inv_[0-9a-f]{6,}|(x-yoloplane-cluster-secret:\s*)\S+`)

// Redact replaces API keys and secrets in s with "[redacted]".
func Redact(s string) string {
	return secretPattern.ReplaceAllStringFunc(s, func(m string) string {
		lower := strings.ToLower(m)
		switch {
		case strings.HasPrefix(lower, "bearer"):
			return m[:len("bearer")] + " [redacted]"
		case strings.HasPrefix(lower, "x-yoloplane-cluster-secret"):
			return "X-Yoloplane-Cluster-Secret: [redacted]"
		case strings.HasPrefix(lower, "inv_"):
			return "inv_[redacted]"
		}
		return "ul_[redacted]"
	})
}

// FromReadError maps an error fasthttp met while reading a request, before
// any handler ran, to the response the client gets. The message never
// quotes the request, which may carry an API key.
func FromReadError(err error) *Error {
	msg := err.Error()
	var netErr net.Error
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		return New(http.StatusRequestEntityTooLarge, CodePayloadTooLarge,
			"request body is larger than the server's limit: send a smaller body")
	case strings.Contains(msg, "small read buffer"):
		return New(http.StatusRequestHeaderFieldsTooLarge, CodeBadRequest,
			"request line or headers are too large: keep the URL and headers under 8 KB")
	case errors.As(err, &netErr) && netErr.Timeout():
		return New(http.StatusRequestTimeout, CodeBadRequest,
			"the request was not received in time: send the whole request without pauses")
	}
	return New(http.StatusBadRequest, CodeBadRequest,
		"malformed HTTP request: check the request line, the headers and Content-Length")
}

// ServerLogger adapts fasthttp's Printf logging to a function that takes a
// message, redacting secrets first.
type ServerLogger func(message string)

// Printf formats the message, redacts it and passes it on.
func (l ServerLogger) Printf(format string, args ...any) {
	l(Redact(sprintf(format, args...)))
}
