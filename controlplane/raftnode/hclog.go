package raftnode

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"strings"
	"sync/atomic"

	"github.com/hashicorp/go-hclog"
)

// slogLevelTrace is the slog level for hclog's Trace, because slog has no
// trace level of its own.
const slogLevelTrace = slog.LevelDebug - 4

// hclogAdapter implements hclog.Logger on top of a *slog.Logger so that
// raft, its transport and its snapshot store log through the logger the
// caller passed in. Keys are rewritten to snake_case ("commit-index"
// becomes "commit_index") to match the rest of the binary.
type hclogAdapter struct {
	logger  *slog.Logger
	name    string
	implied []any
	level   *atomic.Int32 // minimum hclog.Level, shared by derived loggers
}

var _ hclog.Logger = (*hclogAdapter)(nil)

func newHclogAdapter(logger *slog.Logger, level hclog.Level) *hclogAdapter {
	a := &hclogAdapter{logger: logger, level: new(atomic.Int32)}
	a.level.Store(int32(level))
	return a
}

func toSlogLevel(level hclog.Level) slog.Level {
	switch level {
	case hclog.Trace:
		return slogLevelTrace
	case hclog.Debug:
		return slog.LevelDebug
	case hclog.Warn:
		return slog.LevelWarn
	case hclog.Error:
		return slog.LevelError
	}
	return slog.LevelInfo
}

var snakeCase = strings.NewReplacer("-", "_", " ", "_")

// snakeArgs rewrites the keys of hclog's alternating key/value list, and
// formats the values raft wraps with hclog.Fmt, which slog would print as
// the format string and its arguments.
func snakeArgs(args []any) []any {
	out := make([]any, len(args))
	copy(out, args)
	for i := 0; i < len(out)-1; i += 2 {
		if k, ok := out[i].(string); ok {
			out[i] = snakeCase.Replace(k)
		}
		if f, ok := out[i+1].(hclog.Format); ok && len(f) > 0 {
			if format, ok := f[0].(string); ok {
				out[i+1] = fmt.Sprintf(format, f[1:]...)
			}
		}
	}
	return out
}

func (a *hclogAdapter) enabled(level hclog.Level) bool {
	return level >= hclog.Level(a.level.Load()) &&
		a.logger.Enabled(context.Background(), toSlogLevel(level))
}

func (a *hclogAdapter) Log(level hclog.Level, msg string, args ...any) {
	if level == hclog.Off || !a.enabled(level) {
		return
	}
	attrs := snakeArgs(args)
	if a.name != "" {
		attrs = append([]any{"logger", a.name}, attrs...)
	}
	a.logger.Log(context.Background(), toSlogLevel(level), msg, attrs...)
}

func (a *hclogAdapter) Trace(msg string, args ...any) { a.Log(hclog.Trace, msg, args...) }
func (a *hclogAdapter) Debug(msg string, args ...any) { a.Log(hclog.Debug, msg, args...) }
func (a *hclogAdapter) Info(msg string, args ...any)  { a.Log(hclog.Info, msg, args...) }
func (a *hclogAdapter) Warn(msg string, args ...any)  { a.Log(hclog.Warn, msg, args...) }
func (a *hclogAdapter) Error(msg string, args ...any) { a.Log(hclog.Error, msg, args...) }

func (a *hclogAdapter) IsTrace() bool { return a.enabled(hclog.Trace) }
func (a *hclogAdapter) IsDebug() bool { return a.enabled(hclog.Debug) }
func (a *hclogAdapter) IsInfo() bool  { return a.enabled(hclog.Info) }
func (a *hclogAdapter) IsWarn() bool  { return a.enabled(hclog.Warn) }
func (a *hclogAdapter) IsError() bool { return a.enabled(hclog.Error) }

func (a *hclogAdapter) ImpliedArgs() []any { return a.implied }

func (a *hclogAdapter) With(args ...any) hclog.Logger {
	c := *a
	c.implied = append(append([]any(nil), a.implied...), args...)
	c.logger = a.logger.With(snakeArgs(args)...)
	return &c
}

func (a *hclogAdapter) Name() string { return a.name }

func (a *hclogAdapter) Named(name string) hclog.Logger {
	c := *a
	if c.name != "" {
		name = c.name + "." + name
	}
	c.name = name
	return &c
}

func (a *hclogAdapter) ResetNamed(name string) hclog.Logger {
	c := *a
	c.name = name
	return &c
}

func (a *hclogAdapter) SetLevel(level hclog.Level) { a.level.Store(int32(level)) }
func (a *hclogAdapter) GetLevel() hclog.Level      { return hclog.Level(a.level.Load()) }

func (a *hclogAdapter) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(a.StandardWriter(opts), "", 0)
}

// StandardWriter returns a writer that logs each write as one message at
// the level opts.ForceLevel, or Info.
func (a *hclogAdapter) StandardWriter(opts *hclog.StandardLoggerOptions) io.Writer {
	level := hclog.Info
	if opts != nil && opts.ForceLevel != hclog.NoLevel {
		level = opts.ForceLevel
	}
	return &levelWriter{a: a, level: level}
}

type levelWriter struct {
	a     *hclogAdapter
	level hclog.Level
}

func (w *levelWriter) Write(p []byte) (int, error) {
	w.a.Log(w.level, strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
