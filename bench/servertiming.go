package bench

import (
	"bytes"
	"math"
	"strconv"
	"time"
)

// parseServerTiming calls fn for each metric in a Server-Timing header value
// that has a valid dur parameter, with the name and the duration. It follows
// the header's grammar loosely: metrics are separated by commas, parameters
// by semicolons, the dur value is in milliseconds and may be quoted.
// Malformed metrics, and negative or non-finite durations, are skipped. name
// aliases header and is valid only during the call.
func parseServerTiming(header []byte, fn func(name []byte, d time.Duration)) {
	for len(header) > 0 {
		var metric []byte
		metric, header, _ = bytes.Cut(header, []byte{','})
		name, params, _ := bytes.Cut(metric, []byte{';'})
		name = bytes.TrimSpace(name)
		if len(name) == 0 {
			continue
		}
		if d, ok := durParam(params); ok {
			fn(name, d)
		}
	}
}

// durParam finds the dur parameter among semicolon-separated parameters.
func durParam(params []byte) (time.Duration, bool) {
	for len(params) > 0 {
		var param []byte
		param, params, _ = bytes.Cut(params, []byte{';'})
		key, value, ok := bytes.Cut(param, []byte{'='})
		if !ok || !bytes.EqualFold(bytes.TrimSpace(key), []byte("dur")) {
			continue
		}
		value = bytes.Trim(bytes.TrimSpace(value), `"`)
		ms, err := strconv.ParseFloat(string(value), 64)
		if err != nil || math.IsNaN(ms) || ms < 0 || ms > float64(math.MaxInt64)/1e6 {
			return 0, false
		}
		return time.Duration(ms * float64(time.Millisecond)), true
	}
	return 0, false
}
