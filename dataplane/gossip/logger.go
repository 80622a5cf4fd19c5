package gossip

import (
	"bytes"
	"context"
	"log"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"
)

// newMemberlistLogger adapts memberlist's standard-library logger into
// logger. memberlist v0.6.0 prefixes each line with "[LEVEL] memberlist: ",
// which sets the slog level. Its lines are free text, so they go under the
// constant message "memberlist" with the text in the "detail" key.
func newMemberlistLogger(logger *slog.Logger) *log.Logger {
	return log.New(memberlistWriter{logger: logger}, "", 0)
}

type memberlistWriter struct {
	logger *slog.Logger
}

func (w memberlistWriter) Write(b []byte) (int, error) {
	line := string(bytes.TrimSpace(b))
	level, detail := splitLevel(line)
	w.logger.Log(context.Background(), level, "memberlist", "detail", detail)
	return len(b), nil
}

func splitLevel(line string) (slog.Level, string) {
	prefixes := []struct {
		tag   string
		level slog.Level
	}{
		{"[DEBUG]", slog.LevelDebug},
		{"[INFO]", slog.LevelInfo},
		{"[WARN]", slog.LevelWarn},
		{"[ERR]", slog.LevelError},
		{"[ERROR]", slog.LevelError},
	}
	for _, p := range prefixes {
		if rest, ok := strings.CutPrefix(line, p.tag); ok {
			rest = strings.TrimSpace(rest)
			rest = strings.TrimPrefix(rest, "memberlist: ")
			return p.level, rest
		}
	}
	return slog.LevelInfo, line
}

// rateLimiter lets one log line through per interval, so a misbehaving
// peer cannot flood the log.
type rateLimiter struct {
	interval time.Duration
	last     atomic.Int64 // Unix nanoseconds of the last line let through
	skipped  atomic.Uint64
}

// allow reports whether a line may be logged now, and how many lines were
// suppressed since the last one let through.
func (r *rateLimiter) allow() (bool, uint64) {
	now := time.Now().UnixNano()
	last := r.last.Load()
	if now-last < int64(r.interval) || !r.last.CompareAndSwap(last, now) {
		r.skipped.Add(1)
		return false, 0
	}
	return true, r.skipped.Swap(0)
}
