package bench

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"strings"
	"time"
)

// Limits that Validate enforces.
const (
	// MaxConcurrency bounds workers and open connections. Beyond a few
	// thousand the load generator measures its own scheduling, not the server.
	MaxConcurrency = 10000
	// MaxRate bounds open-loop requests per second, because the scheduler
	// goroutine cannot keep a finer schedule than about a microsecond.
	MaxRate = 1e6
	// MaxDuration bounds a run. Every latency is kept in memory (8 bytes per
	// request), so very long runs at high rates would need gigabytes.
	MaxDuration = 24 * time.Hour
)

// ErrInvalidConfig is wrapped by every error that Validate returns.
var ErrInvalidConfig = errors.New("invalid bench config")

// Config describes one benchmark run against a predict endpoint.
type Config struct {
	// URL is the predict endpoint, http or https.
	URL string
	// File is the image to send. Its base name becomes the multipart filename.
	File string
	// FileBytes, when set, is sent in place of the contents of File. File
	// then only supplies the filename, and may be empty.
	FileBytes []byte
	// APIKey, when set, goes out as "Authorization: Bearer <key>".
	APIKey string

	// Concurrency is the number of workers, and so the maximum number of
	// requests in flight. Zero means 1.
	Concurrency int
	// Duration is how long new requests are started. Requests in flight at
	// the end still complete. Zero means 10 s.
	Duration time.Duration
	// Rate, in requests per second, switches to an open loop: requests are
	// scheduled at fixed intervals whatever the server's speed. Zero means a
	// closed loop, where each worker sends its next request as soon as the
	// previous one completes.
	Rate float64

	// Fields are extra multipart form fields, such as conf or imgsz.
	Fields map[string]string
	// Timeout bounds each request, from connect to the last response byte.
	// Zero means 30 s.
	Timeout time.Duration

	// Progress, when set, receives a live line, rewritten with a carriage
	// return about every 500 ms, and a final line with a newline.
	Progress io.Writer
}

// DefaultConfig returns the defaults that Run applies to zero fields. One
// worker for 10 s sends 200 requests even at 50 ms each. The 30 s request
// timeout lets a slow first request to a model that is still warming count
// as slow, not as failed.
func DefaultConfig() Config {
	return Config{Concurrency: 1, Duration: 10 * time.Second, Timeout: 30 * time.Second}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Concurrency == 0 {
		c.Concurrency = d.Concurrency
	}
	if c.Duration == 0 {
		c.Duration = d.Duration
	}
	if c.Timeout == 0 {
		c.Timeout = d.Timeout
	}
	return c
}

// Validate reports the first invalid field. Zero values that have a default
// are valid. It does not open File.
func (c Config) Validate() error {
	if err := validateURL(c.URL); err != nil {
		return err
	}
	if c.File == "" && len(c.FileBytes) == 0 {
		return fmt.Errorf("%w: missing image: set File or FileBytes", ErrInvalidConfig)
	}
	if c.Concurrency < 0 || c.Concurrency > MaxConcurrency {
		return fmt.Errorf("%w: concurrency %d out of range [0, %d], where 0 means 1", ErrInvalidConfig, c.Concurrency, MaxConcurrency)
	}
	if c.Duration < 0 || c.Duration > MaxDuration {
		return fmt.Errorf("%w: duration %v out of range [0, %v], where 0 means 10s", ErrInvalidConfig, c.Duration, MaxDuration)
	}
	if math.IsNaN(c.Rate) || c.Rate < 0 || c.Rate > MaxRate {
		return fmt.Errorf("%w: rate %v out of range [0, %g] requests/s", ErrInvalidConfig, c.Rate, MaxRate)
	}
	if c.Timeout < 0 {
		return fmt.Errorf("%w: negative timeout %v", ErrInvalidConfig, c.Timeout)
	}
	return validateFields(c.Fields)
}

func validateURL(raw string) error {
	if raw == "" {
		return fmt.Errorf("%w: missing URL", ErrInvalidConfig)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w: URL %q: %w", ErrInvalidConfig, raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%w: URL %q: scheme must be http or https", ErrInvalidConfig, raw)
	}
	if u.Host == "" {
		return fmt.Errorf("%w: URL %q: missing host", ErrInvalidConfig, raw)
	}
	return nil
}

func validateFields(fields map[string]string) error {
	for name := range fields {
		if name == "" {
			return fmt.Errorf("%w: empty form field name", ErrInvalidConfig)
		}
		if name == fileField {
			return fmt.Errorf("%w: form field %q is reserved for the image", ErrInvalidConfig, name)
		}
		if strings.ContainsAny(name, "\r\n") {
			return fmt.Errorf("%w: form field name %q contains a line break", ErrInvalidConfig, name)
		}
	}
	return nil
}
